// Customer portal: live character counter, the second category dropdown filtered by the first,
// and the progress page reloading itself while the complaint is open. No inline scripts (CSP).
document.addEventListener("DOMContentLoaded", () => {
  const text = document.getElementById("description");
  const count = document.getElementById("count");
  if (text && count) {
    const update = () => { count.textContent = String(text.value.length); };
    text.addEventListener("input", update);
    update();
  }
  const family = document.getElementById("family");
  const category = document.getElementById("category");
  if (family && category) {
    const filter = () => {
      for (const option of category.options) {
        if (!option.dataset.family) continue;
        option.hidden = family.value !== "" && option.dataset.family !== family.value;
      }
      const chosen = category.selectedOptions[0];
      if (chosen && chosen.hidden) category.value = "";
    };
    family.addEventListener("change", filter);
    category.addEventListener("change", () => {
      const chosen = category.selectedOptions[0];
      if (chosen && chosen.dataset.family) family.value = chosen.dataset.family;
    });
    filter();
  }
  const progress = document.querySelector("article.progress[data-refresh=on]");
  if (progress && !document.querySelector("form.confirm")) {
    setTimeout(() => window.location.reload(), 15000);
  }
});
