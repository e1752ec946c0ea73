// Starts Swagger UI on the API's documentation page (templates/drf_spectacular/swagger_ui.html):
// drf-spectacular's inline start-up script, as a file, reading its settings from the page.
(function () {
  "use strict";

  var root = document.getElementById("swagger-ui");
  var data = root.dataset;
  var settings = JSON.parse(data.settings || "{}");
  var oauth2Config = JSON.parse(data.oauth2Config || "{}");
  var schemaAuthNames = JSON.parse(data.schemaAuthNames || "[]");
  var schemaAuthFailed = false;
  var ui = null;
  var plugins = [];

  function reloadSchema() {
    schemaAuthFailed = false;
    setTimeout(function () { ui.specActions.download(); });
  }

  // With a token entered under "Authorize", the schema is fetched again with it.
  if (schemaAuthNames.length > 0) {
    plugins.push(function () {
      function wrap(original) {
        return function () {
          reloadSchema();
          return original.apply(null, arguments);
        };
      }
      return {
        statePlugins: {
          auth: { wrapActions: { authorizeOauth2: wrap, authorize: wrap, logout: wrap } },
        },
      };
    });
  }

  function isSchemaUrl(url) {
    return ui !== null && url === new URL(ui.getConfigs().url, document.baseURI).href;
  }

  function injectAuthCredentials(request) {
    var authorized;
    if (ui !== null) {
      var state = ui.getState().get("auth").get("authorized");
      if (state !== undefined && Object.keys(state.toJS()).length !== 0) authorized = state.toJS();
    } else if (![undefined, "{}"].includes(localStorage.authorized)) {
      authorized = JSON.parse(localStorage.authorized);
    }
    if (authorized === undefined) return;
    for (var i = 0; i < schemaAuthNames.length; i++) {
      var auth = authorized[schemaAuthNames[i]];
      if (auth === undefined || auth.schema === undefined) continue;
      if (auth.schema.type === "http" && auth.schema.scheme === "bearer") {
        request.headers.Authorization = "Bearer " + auth.value;
        return;
      }
      if (auth.schema.type === "http" && auth.schema.scheme === "basic") {
        request.headers.Authorization =
          "Basic " + btoa(auth.value.username + ":" + auth.value.password);
        return;
      }
      if (auth.schema.type === "apiKey" && auth.schema.in === "header") {
        request.headers[auth.schema.name] = auth.value;
        return;
      }
      if (auth.schema.type === "oauth2" && auth.token.token_type === "Bearer") {
        request.headers.Authorization = "Bearer " + auth.token.access_token;
        return;
      }
    }
  }

  function requestInterceptor(request) {
    if (request.loadSpec && schemaAuthNames.length > 0 && !schemaAuthFailed) {
      try {
        injectAuthCredentials(request);
      } catch (error) {
        console.error("schema auth injection failed with error: ", error);
      }
    }
    // The session's CSRF token on writes "Try it out" sends from this page.
    if (!["GET", undefined].includes(request.method) && request.credentials === "same-origin") {
      request.headers[data.csrfHeader] = data.csrfToken;
    }
    return request;
  }

  function responseInterceptor(response) {
    if (!response.ok && isSchemaUrl(response.url) && !schemaAuthFailed) {
      // Retry once without the credentials that were refused.
      schemaAuthFailed = true;
      setTimeout(function () { ui.specActions.download(); });
    }
    return response;
  }

  ui = SwaggerUIBundle(Object.assign({
    url: data.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    plugins: plugins,
    layout: "BaseLayout",
    requestInterceptor: requestInterceptor,
    responseInterceptor: responseInterceptor,
  }, settings));
  if (Object.keys(oauth2Config).length > 0) ui.initOAuth(oauth2Config);
})();
