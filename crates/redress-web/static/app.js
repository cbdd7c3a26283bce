// Small conveniences of our own; every page works without this file.
"use strict";
document.addEventListener("submit", function (event) {
  // Buttons that change a complaint irrevocably ask first.
  var button = event.submitter;
  if (button && button.dataset && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
document.addEventListener("DOMContentLoaded", function () {
  // Open the action form that came back with an error, and bring it into view.
  var failed = document.querySelector("details.action-box[open] .error");
  if (failed) { failed.scrollIntoView({ block: "center" }); }
});
