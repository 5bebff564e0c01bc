// On the patient's own chat page: a "Wrong?" button on every finished agent message, so the patient can say the
// assistant got something wrong; the care team is alerted and the turn's record keeps it.
(function () {
  "use strict";
  const root = document.getElementById("chat");
  const list = document.getElementById("messages");
  if (!root || !list || root.dataset.canWrite !== "true") return;
  const csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";

  async function report(li, button) {
    const reason = window.prompt("What was wrong with this answer? Your care team will see it.");
    if (reason === null) return;
    button.disabled = true;
    const response = await fetch(`/chat/messages/${li.dataset.id}/report`, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({reason}),
    });
    if (response.ok) {
      li.dataset.reported = "true";
      button.textContent = "Reported to your care team";
    } else {
      button.disabled = false;
    }
  }

  function decorate(li) {
    if (!li.matches("li.message.agent[data-id]:not(.streaming)") || li.querySelector("button.report")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "report small link";
    button.textContent = "Wrong?";
    button.title = "Tell your care team this answer was wrong";
    button.addEventListener("click", () => report(li, button));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(button);
  }

  list.querySelectorAll("li.message.agent").forEach(decorate);
  new MutationObserver(() => list.querySelectorAll("li.message.agent").forEach(decorate))
    .observe(list, {childList: true, subtree: true, attributes: true, attributeFilter: ["class", "data-id"]});
})();
