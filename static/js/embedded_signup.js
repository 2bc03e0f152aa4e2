// WhatsApp Embedded Signup (v4) in Meta's popup, through Meta's JavaScript SDK.
//
// The channels page renders the WhatsApp form with the settings below as data-*
// attributes only when Embedded Signup is configured. Without this script (or when the
// SDK does not load) the form posts to Padu, which redirects to Meta's dialog instead.
// With it: FB.login returns a code, and the popup posts a WA_EMBEDDED_SIGNUP message
// naming the WhatsApp Business Account and number the business chose; the form then
// posts the code and those ids (with the CSRF token and the PIN) to Padu, which checks
// them with Meta before using them.
"use strict";

(function () {
  const form = document.getElementById("whatsapp-signup");
  if (!form) {
    return;
  }
  const config = form.dataset;
  const status = document.getElementById("whatsapp-signup-status");
  // How long to wait for the popup's session info once the code is in.
  const SESSION_INFO_WAIT_MS = 5000;
  let sdkReady = false;
  let code = "";
  let session = null;
  let waitTimer = null;

  function say(text) {
    if (status) {
      status.textContent = text || "";
    }
  }

  function fromMeta(origin) {
    if (origin === config.dialogOrigin) {
      return true;
    }
    try {
      const url = new URL(origin);
      return (
        url.protocol === "https:" &&
        (url.hostname === "facebook.com" || url.hostname.endsWith(".facebook.com"))
      );
    } catch (error) {
      return false;
    }
  }

  function post() {
    clearTimeout(waitTimer);
    const chosen = session || {};
    form.action = config.signupUrl;
    form.elements.code.value = code;
    form.elements.waba_id.value = chosen.waba_id || "";
    form.elements.phone_number_id.value = chosen.phone_number_id || "";
    say(config.connecting);
    // submit() does not fire the submit event again.
    form.submit();
  }

  function maybePost() {
    if (code && session) {
      post();
    } else if (code && !waitTimer) {
      // Padu says so if Meta never named the number.
      waitTimer = setTimeout(post, SESSION_INFO_WAIT_MS);
    }
  }

  window.addEventListener("message", function (event) {
    if (!fromMeta(event.origin)) {
      return;
    }
    let data = event.data;
    if (typeof data === "string") {
      try {
        data = JSON.parse(data);
      } catch (error) {
        return;
      }
    }
    if (!data || data.type !== "WA_EMBEDDED_SIGNUP") {
      return;
    }
    if (String(data.event || "").startsWith("FINISH")) {
      session = data.data || {};
      maybePost();
    } else if (data.event === "CANCEL") {
      say(config.cancelled);
    } else if (data.event === "ERROR") {
      const detail = (data.data && data.data.error_message) || "";
      say(config.failed + (detail ? " (" + detail + ")" : ""));
    }
  });

  form.addEventListener("submit", function (event) {
    if (!sdkReady || !window.FB) {
      return;
    }
    event.preventDefault();
    code = "";
    session = null;
    clearTimeout(waitTimer);
    waitTimer = null;
    say("");
    window.FB.login(
      function (response) {
        const auth = response && response.authResponse;
        if (auth && auth.code) {
          code = auth.code;
          maybePost();
        } else if (!status || !status.textContent) {
          say(config.cancelled);
        }
      },
      {
        config_id: config.configId,
        response_type: "code",
        override_default_response_type: true,
        extras: { setup: {}, featureType: "", sessionInfoVersion: "3" },
      },
    );
  });

  const script = document.createElement("script");
  script.src = config.sdkUrl;
  script.async = true;
  script.addEventListener("load", function () {
    if (!window.FB) {
      return;
    }
    window.FB.init({
      appId: config.appId,
      autoLogAppEvents: true,
      xfbml: false,
      version: config.graphVersion,
    });
    sdkReady = true;
    form.dataset.ready = "true";
  });
  document.head.appendChild(script);
})();
