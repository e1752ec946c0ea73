// Download a value stream map as PNG: draw its SVG on a canvas and save the canvas.
// No library; the SVG download link works without JavaScript, this button needs it.
(function () {
  "use strict";

  var MAX_CANVAS_SIDE = 16000; // browsers refuse larger canvases

  function reveal(root) {
    (root || document).querySelectorAll("[data-map-png]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function savePng(svg) {
    var width = Number(svg.getAttribute("width"));
    var height = Number(svg.getAttribute("height"));
    var scale = Math.min(2, MAX_CANVAS_SIDE / width, MAX_CANVAS_SIDE / height);
    var xml = new XMLSerializer().serializeToString(svg);
    var image = new Image();
    image.onload = function () {
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      var context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.scale(scale, scale);
      context.drawImage(image, 0, 0, width, height);
      canvas.toBlob(function (blob) {
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = (svg.dataset.filename || "value-stream-map") + ".png";
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
      }, "image/png");
    };
    image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(xml);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-map-png]");
    if (!button) return;
    var svg = document.querySelector(button.dataset.mapPng);
    if (svg) savePng(svg);
  });
  document.addEventListener("DOMContentLoaded", function () { reveal(); });
  // The map is swapped in again after every stage edit.
  document.addEventListener("htmx:afterSettle", function () { reveal(); });
})();
