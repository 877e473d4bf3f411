// The D-Team Mini App: one question per screen, every answer stored on the server at once.
// Reads Telegram's launch parameters from location.hash itself (no telegram-web-app.js from
// telegram.org: every asset comes from the bot's server, under a strict CSP). Text from the
// server is only ever put into the page with textContent.
"use strict";

(function () {
  var THEME_VARS = {
    bg_color: "--bg",
    text_color: "--text",
    hint_color: "--hint",
    link_color: "--link",
    button_color: "--button",
    button_text_color: "--button-text",
    secondary_bg_color: "--secondary-bg",
  };
  var COLOUR = /^#[0-9a-fA-F]{3,8}$/;

  function launchParams() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    var theme = {};
    try {
      theme = JSON.parse(params.get("tgWebAppThemeParams") || "{}") || {};
    } catch (e) {
      theme = {};
    }
    return {
      initData: params.get("tgWebAppData") || "",
      theme: theme,
      platform: params.get("tgWebAppPlatform") || "unknown",
    };
  }

  function applyTheme(theme) {
    var root = document.documentElement.style;
    Object.keys(THEME_VARS).forEach(function (key) {
      if (typeof theme[key] === "string" && COLOUR.test(theme[key])) {
        root.setProperty(THEME_VARS[key], theme[key]);
      }
    });
  }

  // Telegram's clients listen for these events (the protocol telegram-web-app.js speaks).
  function postEvent(type, data) {
    var payload = JSON.stringify(data || {});
    try {
      if (window.TelegramWebviewProxy && window.TelegramWebviewProxy.postEvent) {
        window.TelegramWebviewProxy.postEvent(type, payload);
      } else if (window.parent !== window) {
        window.parent.postMessage(
          JSON.stringify({ eventType: type, eventData: data || {} }),
          "https://web.telegram.org"
        );
      }
    } catch (e) {
      /* outside Telegram: nothing to tell */
    }
  }

  function unverifiedLanguage(initData) {
    // Only to word an error before the server answered; never trusted for anything else.
    try {
      var user = JSON.parse(new URLSearchParams(initData).get("user") || "{}");
      return user.language_code === "en" ? "en" : "de";
    } catch (e) {
      return document.documentElement.lang === "en" ? "en" : "de";
    }
  }

  function requestId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs.text;
      else if (name === "onclick") node.addEventListener("click", attrs.onclick);
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  // replaceChildren would show a skipped (null) part as the text "null".
  function screenOf() {
    main.replaceChildren.apply(main, Array.prototype.filter.call(arguments, Boolean));
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) {
      return String(values[name]);
    });
  }

  var launch = launchParams();
  applyTheme(launch.theme);
  window.dteamLaunch = launch;

  var main = document.getElementById("app");
  var status = document.getElementById("status");
  var app = { texts: {}, items: [], run: null, answers: {}, result: null, busy: false };

  function t(key) {
    return app.texts[key] || "";
  }

  function say(message) {
    status.textContent = message || "";
  }

  function api(action, body) {
    return fetch("/app/api/" + action, {
      method: "POST",
      headers: {
        Authorization: "tma " + launch.initData,
        "Content-Type": "application/json",
      },
      body: JSON.stringify(body || {}),
      cache: "no-store",
      credentials: "omit",
    }).then(function (response) {
      return response.json().then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  function take(data) {
    if (data.texts) app.texts = data.texts;
    if (data.items) app.items = data.items;
    if (data.lang) document.documentElement.lang = data.lang;
    if (data.texts) document.title = data.texts.title;
    app.consent = data.consent;
    app.run = data.run;
    app.answers = data.answers || {};
    app.result = data.result;
    app.welcome = data.welcome || app.welcome;
    app.sentToChat = data.sent_to_chat;
    app.switch = data.switch || null;
  }

  function act(action, body) {
    if (app.busy) return Promise.resolve();
    app.busy = true;
    main.setAttribute("aria-busy", "true");
    return api(action, body)
      .then(function (answer) {
        app.busy = false;
        main.removeAttribute("aria-busy");
        if (answer.status === 401) return refused(answer.data);
        if (answer.status !== 200) {
          if (action === "switch") app.switch = null; // refused: the run stays where it is
          say(answer.data.message || t("network"));
          return show();
        }
        take(answer.data);
        show();
        say(answer.data.notice || "");
      })
      .catch(function () {
        app.busy = false;
        main.removeAttribute("aria-busy");
        say(t("network"));
        show();
      });
  }

  function refused(data) {
    var lang = unverifiedLanguage(launch.initData);
    var message = (data.messages && data.messages[lang]) || status.dataset.outside;
    screenOf(el("h1", { class: "error", tabindex: "-1", text: message }));
    main.firstChild.focus();
    document.body.dataset.screen = "refused";
  }

  function show() {
    if (!app.consent) return showWelcome();
    if (app.run && app.switch) return showSwitch();
    if (app.run) return showQuestion();
    if (app.result) return showResult();
    return showWelcome();
  }

  function heading(text) {
    return el("h1", { id: "heading", tabindex: "-1", text: text });
  }

  function focusHeading() {
    var h = document.getElementById("heading");
    if (h) h.focus({ preventScroll: false });
    window.scrollTo(0, 0);
  }

  function showWelcome() {
    document.body.dataset.screen = "welcome";
    var w = app.welcome || {};
    var paragraphs = (w.text || "").split("\n").filter(Boolean);
    screenOf(
      heading(paragraphs[0] || t("title")),
      el(
        "div",
        { class: "prose" },
        paragraphs.slice(1).map(function (p) {
          return el("p", { text: p });
        })
      ),
      w.joining ? el("p", { class: "workshop", text: w.joining }) : null,
      el("p", { class: "hint", text: w.privacy || "" }),
      el("button", {
        type: "button",
        class: "primary",
        id: "consent",
        text: t("consent_button"),
        onclick: function () {
          act("consent", { request_id: requestId() });
        },
      }),
      languageButton()
    );
    focusHeading();
  }

  function languageButton() {
    return el("button", {
      type: "button",
      class: "secondary",
      id: "language",
      lang: t("other_language"),
      text: t("language_button"),
      onclick: function () {
        act("language", { request_id: requestId(), lang: t("other_language") });
      },
    });
  }

  // The app was opened with another open workshop's link while a run is in progress: as the
  // chat does, ask which workshop the answers count for; both answers lead to the question.
  function showSwitch() {
    document.body.dataset.screen = "switch";
    var offer = app.switch;
    var run = app.run;
    screenOf(
      el("h1", { id: "heading", class: "ask", tabindex: "-1", text: offer.text }),
      el("button", {
        type: "button",
        class: "primary",
        id: "switch-count",
        text: offer.count,
        onclick: function () {
          act("switch", { request_id: requestId(), run: run.id, code: offer.code });
        },
      }),
      el("button", {
        type: "button",
        class: "secondary",
        id: "switch-stay",
        text: offer.stay,
        onclick: function () {
          act("resume", {});
        },
      })
    );
    focusHeading();
  }

  function showQuestion() {
    document.body.dataset.screen = "question";
    var run = app.run;
    var item = app.items.filter(function (it) {
      return it.id === run.current;
    })[0];
    if (!item) return say(t("network"));
    var chosen = app.answers[item.id];
    var options = el(
      "div",
      { class: "options", role: "group", "aria-labelledby": "heading" },
      item.options.map(function (option, index) {
        var picked = option.id === chosen;
        var button = el(
          "button",
          {
            type: "button",
            class: "option" + (picked ? " chosen" : ""),
            "aria-pressed": picked ? "true" : "false",
            "data-option": option.id,
            "data-key": String(index + 1),
            onclick: function () {
              answer(item, option);
            },
          },
          [
            el("span", { class: "label", text: option.text }),
            picked ? el("span", { class: "visually-hidden", text: " (" + t("chosen") + ")" }) : null,
          ]
        );
        return button;
      })
    );
    var progress = el("progress", {
      max: String(run.total),
      value: String(run.position - 1),
      "aria-hidden": "true",
    });
    screenOf(
      el("div", { class: "bar" }, [
        run.position > 1
          ? el("button", {
              type: "button",
              class: "back",
              id: "back",
              text: "‹ " + t("back"),
              onclick: function () {
                act("back", { request_id: requestId(), run: run.id, item: item.id });
              },
            })
          : el("span"),
        el("p", {
          class: "progress",
          id: "progress",
          text: fill(t("progress"), { n: run.position, total: run.total }),
        }),
      ]),
      progress,
      item.kind === "rating" ? el("p", { class: "stem", text: t("stem") }) : null,
      el("h1", { id: "heading", tabindex: "-1", "data-item": item.id, text: item.text }),
      item.kind === "context" ? el("p", { class: "hint", text: t("context_hint") }) : null,
      options,
      run.position === 1 ? el("p", { class: "hint", text: t("saved_hint") }) : null
    );
    focusHeading();
  }

  function answer(item, option) {
    act("answer", {
      request_id: requestId(),
      run: app.run.id,
      item: item.id,
      option: option.id,
    });
  }

  function showResult() {
    document.body.dataset.screen = "result";
    var r = app.result;
    var bars = el(
      "ul",
      { class: "affinities" },
      r.affinities.map(function (a) {
        var fillBar = el("span", { class: "fill" });
        fillBar.style.width = Math.max(0, Math.min(100, a.percent)) + "%";
        return el("li", { "data-type": a.type }, [
          el("span", { class: "name", text: a.name }),
          el("span", { class: "percent", text: a.percent + " %" }),
          el("span", { class: "track", "aria-hidden": "true" }, [fillBar]),
        ]);
      })
    );
    screenOf(
      heading(t("result_title")),
      el("p", { text: t("closest") }),
      el("p", { class: "type", id: "type", "data-type": r.type, text: r.name }),
      el("p", { class: "quote", text: "„" + r.heading + "“" }),
      r.mixed ? el("p", { text: r.mixed }) : null,
      el("h2", { text: t("affinities") }),
      bars,
      r.deciding.length ? el("h2", { text: t("deciding") }) : null,
      r.deciding.length
        ? el(
            "ul",
            {},
            r.deciding.map(function (d) {
              return el("li", { text: d });
            })
          )
        : null,
      el("section", { class: "card", "aria-labelledby": "card-title" }, [
        el("h2", { id: "card-title", text: r.card.title }),
        el("h3", { text: r.card.strengths_heading }),
        el(
          "ul",
          {},
          r.card.strengths.map(function (s) {
            return el("li", { text: s });
          })
        ),
        el("p", { text: r.card.way_of_working }),
        el("p", { text: r.card.brings }),
      ]),
      el("p", { class: "hint", text: t("no_ranking") }),
      app.sentToChat ? el("p", { class: "hint", id: "sent", text: t("sent_to_chat") }) : null,
      el("button", {
        type: "button",
        class: "secondary",
        id: "again",
        text: t("again"),
        onclick: function () {
          act("restart", { request_id: requestId() });
        },
      })
    );
    focusHeading();
  }

  // Keys 1-9 choose an option, Backspace goes back: quick with a keyboard, optional.
  document.addEventListener("keydown", function (event) {
    if (document.body.dataset.screen !== "question" || event.altKey || event.ctrlKey) return;
    if (event.target && event.target.tagName === "INPUT") return;
    var pick = main.querySelector('.option[data-key="' + event.key + '"]');
    if (pick) {
      event.preventDefault();
      pick.click();
    } else if (event.key === "Backspace" && document.getElementById("back")) {
      event.preventDefault();
      document.getElementById("back").click();
    }
  });

  postEvent("web_app_ready");
  postEvent("web_app_expand");
  if (!launch.initData) {
    refused({});
  } else {
    act("open", {});
  }
})();
