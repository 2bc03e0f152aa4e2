// The inbox's keyboard shortcuts, saved replies, tab title and notifications. Every form
// works without this file; it only makes the page quicker to use.
(function () {
  "use strict";
  var baseTitle = document.title;

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]");
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-row] a"));
  }

  function move(step) {
    var links = rows();
    if (!links.length) return;
    var current = links.indexOf(document.activeElement);
    if (current === -1) current = links.findIndex(function (a) { return a.getAttribute("aria-current"); });
    var next = links[Math.min(links.length - 1, Math.max(0, current + step))];
    next.focus();
  }

  function submitShortcut(key) {
    var form = document.querySelector('[data-shortcut-form="' + key + '"]');
    if (form) form.requestSubmit();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
    if (typing(event.target)) return;
    var reply = document.querySelector("[data-reply-text]");
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "r": if (reply) { event.preventDefault(); reply.focus(); } break;
      case "e": submitShortcut("e"); break;
      case "a": submitShortcut("a"); break;
      case "/": if (reply) { event.preventDefault(); reply.focus(); reply.value = "/"; showSaved(reply); } break;
      case "?": document.getElementById("shortcuts").showModal(); break;
      default: return;
    }
  });

  // Saved replies: typing "/" and a shortcut in the reply box offers the matching ones.
  function savedList() {
    return document.querySelector("[data-saved-replies]");
  }

  function showSaved(box) {
    var list = savedList();
    if (!list) return;
    var term = box.value.slice(1).toLowerCase();
    var options = list.querySelectorAll("[role=option]");
    var first = null;
    options.forEach(function (option) {
      var match = option.textContent.toLowerCase().indexOf(term) !== -1;
      option.hidden = !match;
      option.setAttribute("aria-selected", "false");
      if (match && !first) first = option;
    });
    if (first) first.setAttribute("aria-selected", "true");
    list.open = true;
  }

  function firstName() {
    var title = document.getElementById("contact-title");
    return title ? title.textContent.trim().replace(/^[@+]/, "").split(/\s+/)[0] : "";
  }

  function insertSaved(option, box) {
    box.value = option.dataset.text.replace(/\{first_name\}/g, firstName());
    savedList().open = false;
    box.focus();
  }

  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-reply-text]")) return;
    var box = event.target;
    if (box.value.charAt(0) === "/" && box.value.indexOf(" ") === -1) showSaved(box);
    else if (savedList()) savedList().open = false;
  });

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    var list = savedList();
    if (!box.matches || !box.matches("[data-reply-text]") || !list || !list.open) return;
    var visible = Array.prototype.filter.call(list.querySelectorAll("[role=option]"), function (o) { return !o.hidden; });
    var selected = visible.findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (selected !== -1) visible[selected].setAttribute("aria-selected", "false");
      var next = visible[(selected + (event.key === "ArrowDown" ? 1 : visible.length - 1)) % visible.length];
      if (next) next.setAttribute("aria-selected", "true");
    } else if (event.key === "Enter" && selected !== -1) {
      event.preventDefault();
      insertSaved(visible[selected], box);
    }
  });

  document.addEventListener("click", function (event) {
    var option = event.target.closest("[data-saved-replies] [role=option]");
    var box = document.querySelector("[data-reply-text]");
    if (option && box) insertSaved(option, box);
  });

  // Enter sends, Shift+Enter makes a new line.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.shiftKey || !event.target.matches("[data-reply-text]")) return;
    var list = savedList();
    if (list && list.open) return;
    event.preventDefault();
    var file = event.target.form.querySelector("[data-reply-file]");
    if (event.target.value.trim() || (file && file.files.length)) event.target.form.requestSubmit();
  });

  // The newest message is in view when a conversation opens or changes.
  function scrollTimeline() {
    var timeline = document.querySelector("[data-timeline]");
    if (timeline) timeline.scrollTop = timeline.scrollHeight;
  }
  document.addEventListener("DOMContentLoaded", scrollTimeline);
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target.matches && (target.matches("[data-timeline]") || target.id === "conversation-pane")) scrollTimeline();
    var reply = document.querySelector("[data-reply-text]");
    if (target.id === "conversation-pane" && reply && event.detail.requestConfig.verb === "post") reply.focus();
  });

  // A conversation opened from the list replaces only its pane: the list marks its row
  // (also after the list reloads), and the page takes the conversation's title.
  function markCurrentRow() {
    var pane = document.querySelector("[data-conversation]");
    var open = pane ? "row-" + pane.dataset.conversation : "";
    rows().forEach(function (link) {
      var current = link.id === open;
      link.parentNode.classList.toggle("current", current);
      if (current) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target.id === "list-pane" || target.matches("[data-rows] li")) markCurrentRow();
    if (target.id !== "conversation-pane" || event.detail.requestConfig.verb !== "get") return;
    var pane = document.querySelector("[data-conversation]");
    if (!pane) return;
    markCurrentRow();
    // Opening it read what was unread; the list's next reload says so too.
    var row = document.getElementById("row-" + pane.dataset.conversation);
    if (row) {
      row.parentNode.classList.remove("unread");
      var badge = row.querySelector(".badge");
      if (badge) badge.remove();
    }
    document.querySelector("[data-inbox]").classList.add("has-conversation");
    baseTitle = pane.dataset.title;
    document.title = baseTitle;
  });

  // The live poll: unread count in the tab title, and notifications when allowed.
  document.addEventListener("htmx:afterSwap", function (event) {
    var live = event.detail.target;
    if (live.id !== "live") return;
    var unread = live.dataset.unread;
    if (unread !== undefined) document.title = (unread > 0 ? "(" + unread + ") " : "") + baseTitle;
    if (!live.dataset.notify || !("Notification" in window) || Notification.permission !== "granted") return;
    JSON.parse(live.dataset.notify).forEach(function (item) {
      if (document.hasFocus() && String(item.conversation) === (document.querySelector("[data-conversation]") || {}).dataset?.conversation) return;
      new Notification(item.title, { body: item.body, tag: "padu-" + item.conversation });
    });
  });

  // Notifications only when the person asks for them.
  function offerNotifications() {
    var button = document.querySelector("[data-notifications]");
    if (!button || button.dataset.ready || !("Notification" in window) || Notification.permission !== "default") return;
    button.dataset.ready = "1";
    button.hidden = false;
    button.addEventListener("click", function () {
      Notification.requestPermission().then(function () { button.hidden = true; });
    });
  }
  document.addEventListener("DOMContentLoaded", offerNotifications);
  document.addEventListener("htmx:afterSwap", offerNotifications);
})();
