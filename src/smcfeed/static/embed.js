/* smcfeed embeds: grow each of our iframes on this page to the height of its content.
   Optional: without this script an embed keeps the height its iframe was given and scrolls.
   Our embeds post {type: "smcfeed:height", height} to their parent; only messages from the
   origin this script was loaded from, and only from one of this page's iframes, are obeyed.
   Embeds that loaded before this script are asked to tell their height again. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.URL) return;
  var origin = new URL(script.src, document.baseURI).origin;
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || data.type !== "smcfeed:height") return;
    var height = Number(data.height);
    if (!isFinite(height) || height < 1) return;
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = Math.min(Math.ceil(height), 20000) + "px";
      }
    }
  });
  var frames = document.getElementsByTagName("iframe");
  for (var i = 0; i < frames.length; i++) {
    if (frames[i].src.indexOf(origin + "/embed/") === 0 && frames[i].contentWindow) {
      // The question carries nothing, so any document may hear it.
      frames[i].contentWindow.postMessage({ type: "smcfeed:ask" }, "*");
    }
  }
})();
