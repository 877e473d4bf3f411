// The presenter page: shows each new state the server sends (Server-Sent Events) and
// switches the results on and off. EventSource reconnects by itself after a dropped
// connection; a refused link (403) closes it for good, and then the page says so.
(function () {
  "use strict";
  var root = document.getElementById("screen");
  var offline = document.getElementById("offline");
  var gone = document.getElementById("gone");
  var announce = document.getElementById("announce");
  if (!root || !window.EventSource) {
    return;
  }
  var source = new EventSource(root.getAttribute("data-events"));

  function showGone() {
    source.close();
    root.textContent = "";
    offline.hidden = true;
    gone.hidden = false;
  }

  source.addEventListener("view", function (event) {
    // Server-rendered, escaped HTML of the page's body (the same template as the first load).
    root.innerHTML = event.data;
    offline.hidden = true;
    // The body is replaced as a whole, so it is no live region; a screen reader hears only
    // the changed counts (and the table can be read at any time).
    var counts = root.querySelector("[data-announce]");
    var said = counts ? counts.getAttribute("data-announce") : "";
    if (announce && said && announce.textContent !== said) {
      announce.textContent = said;
    }
  });
  source.addEventListener("gone", showGone);
  source.addEventListener("open", function () {
    offline.hidden = true;
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      showGone();
    } else {
      offline.hidden = false;
    }
  });

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) {
      return;
    }
    button.disabled = true;
    fetch(root.getAttribute("data-control") + button.getAttribute("data-action"), {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
    }).then(function (response) {
      if (response.status === 403) {
        showGone();
      }
      // The new state arrives through the event stream, as on every other open page.
    }).catch(function () {
      button.disabled = false;
    });
  });
})();
