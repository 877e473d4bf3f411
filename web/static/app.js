// The D-Team Mini App. Reads Telegram's launch parameters from location.hash itself (no
// telegram-web-app.js from telegram.org: every asset comes from the bot's server).
"use strict";

(function () {
  function launchParams() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    return {
      initData: params.get("tgWebAppData") || "",
      theme: parseTheme(params.get("tgWebAppThemeParams")),
      platform: params.get("tgWebAppPlatform") || "unknown",
    };
  }

  function parseTheme(raw) {
    if (!raw) return {};
    try {
      var theme = JSON.parse(raw);
      return theme && typeof theme === "object" ? theme : {};
    } catch (e) {
      return {};
    }
  }

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

  function applyTheme(theme) {
    var root = document.documentElement.style;
    Object.keys(THEME_VARS).forEach(function (key) {
      if (typeof theme[key] === "string" && COLOUR.test(theme[key])) {
        root.setProperty(THEME_VARS[key], theme[key]);
      }
    });
  }

  var launch = launchParams();
  applyTheme(launch.theme);
  window.dteamLaunch = launch;
  document.getElementById("status").textContent = launch.initData ? "" : "Telegram?";
})();
