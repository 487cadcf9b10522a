/*
 * Glue between the vendored widget manager (@jupyter-widgets/html-manager 1.0.6,
 * embed-amd.js) and the book's MathJax 3. Loaded before require.js and embed-amd.js
 * (see nb_ipywidgets_js in _config.yml and VENDORED.txt).
 *
 * 1. embed-amd.js typesets widget labels with MathJax 2's API,
 *    `MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])`. MathJax 3 has no
 *    MathJax.Hub, so this provides a minimal Hub.Queue that typesets with
 *    MathJax.typesetPromise([element]) once MathJax 3 has started. MathJax 3 replaces
 *    window.MathJax (the configuration object written by Sphinx) with its own object
 *    when it loads, so window.MathJax is turned into an accessor that gives every
 *    object assigned to it the Hub (as a non-enumerable property, invisible to
 *    MathJax's configuration handling).
 * 2. embed-amd.js loads its icon fonts (Font Awesome 5) from the folder of its AMD
 *    module "@jupyter-widgets/html-manager/dist/libembed-amd" (which RequireJS places
 *    next to the page) and, for assets loaded later, from
 *    window.__jupyter_widgets_assets_path__. Point both at widgets/fonts/ next to this
 *    script, whatever the depth of the page.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (script && script.src) {
    var fonts = new URL("fonts/", script.src).href;
    if (window.__jupyter_widgets_assets_path__ === undefined) {
      window.__jupyter_widgets_assets_path__ = fonts;
    }
    // html-manager 1.0.6 builds its font URLs from the RequireJS address of its module
    // "@jupyter-widgets/html-manager/dist/libembed-amd" *before* it reads
    // __jupyter_widgets_assets_path__, so also map that module's folder onto fonts/.
    // A global `require` object defined before require.js loads is its configuration.
    var path = fonts.replace(/\/$/, "");
    var config = window.require;
    if (config === undefined) {
      window.require = config = {};
    }
    if (config && typeof config === "object") {
      config.paths = config.paths || {};
      if (!config.paths["@jupyter-widgets/html-manager/dist"]) {
        config.paths["@jupyter-widgets/html-manager/dist"] = path;
      }
    }
  }

  // Resolves with MathJax 3 once its startup (including the first typeset) is done.
  var ready = null;
  function whenReady() {
    if (ready) {
      return ready;
    }
    ready = new Promise(function (resolve, reject) {
      var started = Date.now();
      (function poll() {
        var mj = window.MathJax;
        if (mj && mj.startup && mj.startup.promise) {
          mj.startup.promise.then(function () { resolve(window.MathJax); }, reject);
        } else if (Date.now() - started > 60000) {
          reject(new Error("MathJax 3 did not start"));
        } else {
          setTimeout(poll, 50);
        }
      })();
    });
    return ready;
  }

  // MathJax asks that typeset calls do not overlap: run them one after another.
  var chain = Promise.resolve();
  function typeset(elements) {
    chain = chain
      .then(whenReady)
      .then(function (mj) {
        if (typeof mj.typesetPromise === "function") {
          return mj.typesetPromise(elements);
        }
      })
      .catch(function (err) {
        if (window.console) {
          console.warn("mathjax2-hub-shim: typesetting a widget failed", err);
        }
      });
    return chain;
  }

  var Hub = {
    // Supports the forms html-manager uses: ["Typeset", Hub, element] and functions.
    Queue: function () {
      var calls = Array.prototype.slice.call(arguments);
      var done = Promise.resolve();
      calls.forEach(function (call) {
        if (Array.isArray(call) && call[0] === "Typeset") {
          var element = call[2];
          var elements = element ? (Array.isArray(element) ? element : [element]) : undefined;
          done = typeset(elements);
        } else if (typeof call === "function") {
          done = chain = chain.then(function () { return call(); });
        }
      });
      return done;
    },
    Typeset: function (element) {
      return typeset(element ? [element] : undefined);
    },
  };

  function withHub(value) {
    if (value && (typeof value === "object" || typeof value === "function") && !value.Hub) {
      try {
        Object.defineProperty(value, "Hub", {
          value: Hub, configurable: true, enumerable: false, writable: true,
        });
      } catch (err) {
        /* frozen object: leave it alone */
      }
    }
    return value;
  }

  var current = window.MathJax;
  var descriptor = Object.getOwnPropertyDescriptor(window, "MathJax");
  if (!descriptor || descriptor.configurable) {
    Object.defineProperty(window, "MathJax", {
      configurable: true,
      enumerable: true,
      get: function () { return current; },
      set: function (value) { current = withHub(value); },
    });
    withHub(current);
  } else {
    withHub(current);
  }
})();
