// Character count for long text fields (GOV.UK pattern). Without JavaScript the field still
// has its maxlength and the hint says the limit; with it, the count of characters left is
// shown under the field and read out politely as it changes.
(function () {
  "use strict";
  function words(left) {
    if (left >= 0) {
      return "You have " + left.toLocaleString("en-GB") + " character" + (left === 1 ? "" : "s") + " remaining";
    }
    return "You have " + (-left).toLocaleString("en-GB") + " character" + (left === -1 ? "" : "s") + " too many";
  }
  document.querySelectorAll("textarea[maxlength]").forEach(function (field) {
    var limit = parseInt(field.getAttribute("maxlength"), 10);
    if (!limit || limit < 200) { return; }
    var count = document.createElement("div");
    count.className = "form-text character-count";
    count.id = field.id + "-count";
    count.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", count);
    var describedBy = (field.getAttribute("aria-describedby") || "").trim();
    field.setAttribute("aria-describedby", (describedBy + " " + count.id).trim());
    function update() { count.textContent = words(limit - field.value.length); }
    field.addEventListener("input", update);
    update();
  });
})();
