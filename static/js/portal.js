// The portal's only script: error toasts for htmx requests that fail (htmx 2 does
// not swap 4xx/5xx responses; base.html's htmx-config marks them as errors).
(function () {
  "use strict";

  function toast(message) {
    var box = document.getElementById("toasts");
    if (!box) { return; }
    var item = document.createElement("p");
    item.className = "toast";
    item.setAttribute("role", "alert");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = "Something went wrong (" + xhr.status + ").";
    if (xhr.responseText) {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var message = doc.querySelector(".error-message");
      if (message) { text = message.textContent; }
    }
    toast(text);
  });

  document.addEventListener("htmx:sendError", function () {
    toast("The portal could not be reached. Check your connection and try again.");
  });
})();
