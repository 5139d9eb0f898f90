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
  if (progress && !document.querySelector("form.confirm, form.information")) {   // never while they answer
    setTimeout(() => window.location.reload(), 15000);
  }
});

// "可能对您有帮助": while the customer types the description, ask the knowledge base (debounced)
// for published articles that may already answer it; the list is built with textContent only.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("kb-suggestions");
  const text = document.getElementById("description");
  const category = document.getElementById("category");
  if (!box || !text) return;
  const list = box.querySelector("ul");
  let timer = null;
  let asked = "";
  const show = (articles) => {
    list.replaceChildren();
    for (const article of articles) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = article.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = article.title;
      const excerpt = document.createElement("small");
      excerpt.textContent = article.excerpt;
      item.append(link, document.createElement("br"), excerpt);
      list.append(item);
    }
    box.hidden = articles.length === 0;
  };
  const ask = async () => {
    const query = text.value.trim();
    const key = query + "|" + (category ? category.value : "");
    if (key === asked) return;
    asked = key;
    if (query.length < 2) { show([]); return; }
    const params = new URLSearchParams({ q: query, category: category ? category.value : "" });
    try {
      const response = await fetch(box.dataset.url + "?" + params, { headers: { Accept: "application/json" } });
      if (response.ok && key === asked) show((await response.json()).articles || []);
    } catch (error) { /* suggestions are a help, never a blocker */ }
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(ask, 400); };
  text.addEventListener("input", later);
  if (category) category.addEventListener("change", later);
  if (text.value) later();
});
