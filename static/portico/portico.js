// Portico's behaviour, for every page: no inline handlers (the Content-Security-Policy refuses
// them), and every page still works without JavaScript; this only makes it quicker.
(function () {
  "use strict";

  // <select data-autosubmit>: choosing sends its form (a noscript button does without).
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
  });

  // <form data-confirm="Question?">: asks before it posts, the one way every removal asks.
  // A plain form asks on submit; a form that htmx sends asks on htmx:confirm (htmx has
  // already taken the submit over, so the first handler leaves it alone).
  document.addEventListener("submit", function (event) {
    if (event.defaultPrevented) return;
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt.closest && event.detail.elt.closest("form[data-confirm]");
    if (!form) return;
    event.preventDefault();
    if (window.confirm(form.dataset.confirm)) event.detail.issueRequest(true);
  });

  // <a data-confirm="Question?" href="…/delete/">: the link to a removal's confirmation page
  // (what it does without JavaScript) asks in the same dialog as every other removal and,
  // answered yes, posts to that page.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-confirm]");
    if (!link) return;
    event.preventDefault();
    if (!window.confirm(link.dataset.confirm)) return;
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    var form = document.createElement("form");
    form.method = "post";
    form.action = link.href;
    var token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = headers["X-CSRFToken"] || "";
    form.appendChild(token);
    document.body.appendChild(form);
    form.submit();
  });

  // <details class="filters-fold" open>: a list's filters, open on a wide screen, folded on a
  // phone (without JavaScript they stay open).
  var PHONE = "(max-width: 768px)";
  function foldFilters() {
    if (!window.matchMedia(PHONE).matches) return;
    document.querySelectorAll("details.filters-fold[open]").forEach(function (details) {
      details.open = false;
    });
  }
  document.addEventListener("DOMContentLoaded", foldFilters);

  // A row's compact action menu (<details class="dropdown row-actions">) closes, as a menu
  // does, when a click lands elsewhere or once one of its actions is chosen (after the click
  // has done its work).
  document.addEventListener("click", function (event) {
    var chosen = event.target.closest("details.row-actions > ul a, details.row-actions > ul button");
    document.querySelectorAll("details.row-actions[open]").forEach(function (details) {
      if (!details.contains(event.target)) details.open = false;
      else if (chosen) setTimeout(function () { details.open = false; }, 0);
    });
  });

  // An element swapped in with data-scroll-into-view (the item or stage editor) is brought
  // into view and focused at its first field, so the editor opens where the item is.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.elt;
    if (!target || !target.querySelector) return;
    var editor = target.matches("[data-scroll-into-view]") ? target : target.querySelector("[data-scroll-into-view]");
    if (!editor) return;
    editor.scrollIntoView({ block: "center" });
    var field = editor.querySelector("input:not([type=hidden]), select, textarea");
    if (field) field.focus({ preventScroll: true });
  });

  // Pickers (core.pickers): <input data-picker> asks htmx for suggestions with what was typed
  // as ``q`` (what hx-vals="js:…" would do, without eval); typing over a chosen record forgets
  // its key; choosing a suggestion puts its name in the box and its key in the hidden input.
  // The arrow keys move between the box and the suggestions, Escape closes them.
  // A picker of several people (data-picker-many) shows each chosen one as a chip with a
  // remove button and the hidden input of their key; choosing a suggestion adds a chip and
  // empties the box (without JavaScript the box holds their names, separated by commas).
  function pickerOf(element) {
    var picker = element.closest && element.closest(".picker");
    return picker ? {
      box: picker.querySelector("[data-picker]"),
      key: picker.querySelector("[data-picker-key]"),
      list: picker.querySelector(".picker-options"),
      many: picker.matches("[data-picker-many]") ? picker : null
    } : null;
  }

  function addChip(many, key, name) {
    var chips = many.querySelector("[data-picker-chips]");
    var present = Array.prototype.some.call(chips.querySelectorAll("input"), function (input) {
      return input.value === key;
    });
    if (present) return;
    var chip = document.createElement("span");
    chip.className = "picker-chip";
    var label = document.createElement("span");
    label.textContent = name;
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "picker-remove";
    remove.setAttribute("data-picker-remove", "");
    remove.setAttribute("aria-label", "Remove " + name);
    remove.textContent = "×";
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = many.dataset.pickerName;
    hidden.value = key;
    chip.append(label, remove, hidden);
    chips.append(chip);
  }

  function setUpPeoplePickers(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("[data-picker-many]:not([data-picker-ready])").forEach(function (many) {
      many.setAttribute("data-picker-ready", "");
      JSON.parse(many.dataset.pickerChosen || "[]").forEach(function (person) {
        addChip(many, person.key, person.name);
      });
      many.querySelector("[data-picker]").value = many.dataset.pickerTyped || "";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setUpPeoplePickers(document); });
  document.addEventListener("htmx:load", function (event) { setUpPeoplePickers(event.detail.elt); });

  function closePicker(picker) {
    picker.list.replaceChildren();
    picker.box.setAttribute("aria-expanded", "false");
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var box = event.detail.elt;
    if (!box.matches || !box.matches("[data-picker]")) return;
    Object.keys(event.detail.parameters).forEach(function (name) {
      delete event.detail.parameters[name];
    });
    event.detail.parameters.q = box.value;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var picker = pickerOf(event.detail.target);
    if (picker && picker.list === event.detail.target) {
      picker.box.setAttribute("aria-expanded", picker.list.children.length ? "true" : "false");
    }
  });

  document.addEventListener("input", function (event) {
    var picker = event.target.matches && event.target.matches("[data-picker]") && pickerOf(event.target);
    if (picker && picker.key) picker.key.value = "";
  });

  document.addEventListener("click", function (event) {
    var option = event.target.closest("[data-pick-key]");
    if (option) {
      var picker = pickerOf(option);
      if (picker.many) {
        addChip(picker.many, option.dataset.pickKey, option.dataset.pickName);
        picker.box.value = "";
      } else {
        picker.box.value = option.dataset.pickName;
        picker.key.value = option.dataset.pickKey;
      }
      closePicker(picker);
      picker.box.focus();
      return;
    }
    var remove = event.target.closest("[data-picker-remove]");
    if (remove) {
      var box = pickerOf(remove).box;
      remove.closest(".picker-chip").remove();
      box.focus();
      return;
    }
    document.querySelectorAll(".picker").forEach(function (element) {
      if (!element.contains(event.target)) closePicker(pickerOf(element.firstChild));
    });
  });

  document.addEventListener("keydown", function (event) {
    var picker = pickerOf(event.target);
    if (!picker) return;
    var options = Array.prototype.slice.call(picker.list.querySelectorAll("[data-pick-key]"));
    var index = options.indexOf(event.target);
    if (event.key === "Escape" && picker.list.children.length) {
      event.preventDefault();
      closePicker(picker);
      picker.box.focus();
    } else if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      options[Math.min(index + 1, options.length - 1)].focus();
    } else if (event.key === "ArrowUp" && index >= 0) {
      event.preventDefault();
      if (index === 0) picker.box.focus();
      else options[index - 1].focus();
    }
  });

  // <form data-kind-fields='{"kind": ["field", …]}'>: only the fields the chosen kind names
  // are shown and sent (all of them before a kind is chosen); the server refuses the others
  // on their field all the same.
  function showKindFields(form) {
    var needs = JSON.parse(form.dataset.kindFields);
    var chosen = needs[form.elements.kind ? form.elements.kind.value : ""];
    var names = {};
    Object.keys(needs).forEach(function (kind) {
      needs[kind].forEach(function (name) { names[name] = true; });
    });
    Object.keys(names).forEach(function (name) {
      var input = form.elements[name];
      if (!input) return;
      var unused = Boolean(chosen) && chosen.indexOf(name) < 0;
      input.disabled = unused;
      var label = input.closest("label");
      if (label) label.hidden = unused;
    });
  }

  function showAllKindFields() {
    document.querySelectorAll("form[data-kind-fields]").forEach(showKindFields);
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-kind-fields]");
    if (form && event.target.name === "kind") showKindFields(form);
  });
  document.addEventListener("DOMContentLoaded", showAllKindFields);
  document.addEventListener("htmx:afterSettle", showAllKindFields);

  // Value stream map as PNG: draw its SVG on a canvas and save the canvas. No library; the SVG
  // download link works without JavaScript, this button needs it.
  var MAX_CANVAS_SIDE = 16000; // browsers refuse larger canvases

  function revealPngButtons() {
    document.querySelectorAll("[data-map-png]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function savePng(svg) {
    var width = Number(svg.getAttribute("width"));
    var height = Number(svg.getAttribute("height"));
    var scale = Math.min(2, MAX_CANVAS_SIDE / width, MAX_CANVAS_SIDE / height);
    var copy = svg.cloneNode(true);
    copy.removeAttribute("style"); // the page's zoom: the PNG is of the drawn size
    var xml = new XMLSerializer().serializeToString(copy);
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
  document.addEventListener("DOMContentLoaded", revealPngButtons);
  // The map is swapped in again after every stage edit.
  document.addEventListener("htmx:afterSettle", revealPngButtons);

  // Value stream maps (templates/valuestreams/inc/map_figure.html): drawn fit to the width
  // (all there is without JavaScript); here the tools zoom them (+, −, Fit, or the keys +, −
  // and 0 in the map's box), the box is moved by the arrow keys (it scrolls) or by dragging,
  // and Full screen shows one map alone. On a wide screen a map opens fitted to the width; on a
  // phone, a map that would be unreadably small fitted opens at the smallest readable zoom, at
  // its start.
  var MIN_READABLE = 0.75; // of the drawn size: 12 px text shows at 9 px
  var PHONE_WIDTH = 768; // px of the window, as the stylesheet's phone layout
  var ZOOM_STEP = 1.25;
  var ZOOM_MAX = 4;

  function mapParts(element) {
    var figure = element.closest("[data-map]");
    if (!figure) return null;
    var viewport = figure.querySelector("[data-map-viewport]");
    var svg = viewport && viewport.querySelector("svg");
    return svg ? { figure: figure, viewport: viewport, svg: svg } : null;
  }

  function drawnWidth(svg) {
    return Number(svg.getAttribute("width")) || svg.viewBox.baseVal.width;
  }

  function fitScale(parts) {
    return parts.viewport.clientWidth / drawnWidth(parts.svg);
  }

  // Zoom to ``scale`` of the drawn size (null: fit to the width), keeping the point at the
  // middle of the box where it was.
  function zoomTo(parts, scale) {
    var viewport = parts.viewport;
    var before = parts.svg.getBoundingClientRect().width || 1;
    var middleX = (viewport.scrollLeft + viewport.clientWidth / 2) / before;
    var middleY = (viewport.scrollTop + viewport.clientHeight / 2) / before;
    var fit = fitScale(parts);
    if (scale === null || scale <= fit) {
      parts.svg.style.width = "";
      viewport.classList.remove("zoomed");
      viewport.dataset.zoom = "fit";
    } else {
      scale = Math.min(scale, ZOOM_MAX);
      parts.svg.style.width = Math.round(drawnWidth(parts.svg) * scale) + "px";
      viewport.classList.add("zoomed");
      viewport.dataset.zoom = scale.toFixed(3);
    }
    var after = parts.svg.getBoundingClientRect().width;
    viewport.scrollLeft = middleX * after - viewport.clientWidth / 2;
    viewport.scrollTop = middleY * after - viewport.clientHeight / 2;
  }

  function zoom(parts, how) {
    var scale = parts.svg.getBoundingClientRect().width / drawnWidth(parts.svg);
    if (how === "in") zoomTo(parts, scale * ZOOM_STEP);
    else if (how === "out") zoomTo(parts, scale / ZOOM_STEP);
    else zoomTo(parts, null);
  }

  function setUpMaps() {
    document.querySelectorAll("[data-map]").forEach(function (figure) {
      var tools = figure.querySelector(".vsm-tools");
      if (tools) tools.hidden = false;
      var parts = mapParts(figure);
      if (!parts || parts.viewport.dataset.zoom) return;
      parts.viewport.dataset.zoom = "fit";
      if (window.innerWidth <= PHONE_WIDTH && fitScale(parts) < MIN_READABLE) {
        zoomTo(parts, MIN_READABLE);
      }
      parts.viewport.scrollLeft = 0;
      parts.viewport.scrollTop = 0;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-map-zoom], [data-map-fullscreen]");
    var parts = button && mapParts(button);
    if (!parts) return;
    if (button.dataset.mapZoom) zoom(parts, button.dataset.mapZoom);
    else if (document.fullscreenElement === parts.figure) document.exitFullscreen();
    else if (parts.figure.requestFullscreen) parts.figure.requestFullscreen();
  });

  document.addEventListener("keydown", function (event) {
    var viewport = event.target.closest && event.target.closest("[data-map-viewport]");
    var parts = viewport && mapParts(viewport);
    if (!parts || event.ctrlKey || event.metaKey || event.altKey) return;
    var how = { "+": "in", "=": "in", "-": "out", "−": "out", "0": "fit" }[event.key];
    if (!how) return;
    event.preventDefault();
    zoom(parts, how);
  });

  // Dragging a zoomed map moves it (a mouse or a pen; a finger scrolls the box as it would).
  var drag = null;
  document.addEventListener("pointerdown", function (event) {
    if (event.pointerType === "touch" || event.button !== 0) return;
    var viewport = event.target.closest && event.target.closest("[data-map-viewport].zoomed");
    if (!viewport || event.target.closest("a")) return;
    drag = { viewport: viewport, x: event.clientX, y: event.clientY,
             left: viewport.scrollLeft, top: viewport.scrollTop };
    viewport.classList.add("dragging");
  });
  document.addEventListener("pointermove", function (event) {
    if (!drag) return;
    drag.viewport.scrollLeft = drag.left - (event.clientX - drag.x);
    drag.viewport.scrollTop = drag.top - (event.clientY - drag.y);
  });
  document.addEventListener("pointerup", function () {
    if (drag) drag.viewport.classList.remove("dragging");
    drag = null;
  });

  // Full screen: the button says how to leave it; leaving it, the map fits again.
  document.addEventListener("fullscreenchange", function () {
    document.querySelectorAll("[data-map]").forEach(function (figure) {
      var button = figure.querySelector("[data-map-fullscreen]");
      var full = document.fullscreenElement === figure;
      if (button) button.textContent = full ? "Leave full screen" : "Full screen";
    });
  });

  document.addEventListener("DOMContentLoaded", setUpMaps);
  // The map is swapped in again after every stage edit.
  document.addEventListener("htmx:afterSettle", setUpMaps);

  // The header's search (templates/inc/site_search.html): htmx puts the suggestions under the
  // box; the arrow keys move through them while the focus stays in the box, Enter opens the
  // one chosen (else the form goes to the results page), Escape closes them.
  function searchOptions(box) {
    var list = document.getElementById(box.getAttribute("aria-controls"));
    return list ? Array.prototype.slice.call(list.querySelectorAll("[role=option]")) : [];
  }

  function chooseOption(box, options, index) {
    options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) {
      box.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  }

  function closeSuggestions(box) {
    var list = document.getElementById(box.getAttribute("aria-controls"));
    if (list) list.replaceChildren();
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  document.addEventListener("keydown", function (event) {
    var box = event.target.closest && event.target.closest("#site-search-q");
    if (!box) return;
    var options = searchOptions(box);
    var current = options.findIndex(function (option) {
      return option.getAttribute("aria-selected") === "true";
    });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!options.length) return;
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = current < 0 ? (step > 0 ? 0 : options.length - 1) : current + step;
      chooseOption(box, options, (next + options.length) % options.length);
    } else if (event.key === "Enter" && current >= 0) {
      event.preventDefault();
      window.location.assign(options[current].href);
    } else if (event.key === "Escape") {
      closeSuggestions(box);
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "site-search-suggestions") return;
    var box = document.getElementById("site-search-q");
    if (box) {
      box.setAttribute("aria-expanded", searchOptions(box).length ? "true" : "false");
      box.removeAttribute("aria-activedescendant");
    }
  });

  // A click elsewhere closes the suggestions.
  document.addEventListener("click", function (event) {
    var box = document.getElementById("site-search-q");
    if (box && !event.target.closest(".site-search")) closeSuggestions(box);
  });
})();
