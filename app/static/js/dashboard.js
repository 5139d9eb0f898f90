// The dashboard: fetch /dashboard/data for the filter form, draw each chart with ECharts and
// write its numbers into the table under it (the accessible figures; tests read them).
(function () {
  "use strict";
  const form = document.getElementById("dash-filters");
  const status = document.getElementById("dash-status");
  const charts = {};

  function chart(id) {
    const element = document.getElementById("chart-" + id);
    if (!element || !window.echarts) return null;
    charts[id] = charts[id] || window.echarts.init(element);
    return charts[id];
  }

  function table(id, headers, rows) {
    const element = document.getElementById("table-" + id);
    if (!element) return;
    element.replaceChildren();
    const head = element.createTHead().insertRow();
    headers.forEach(function (text) { const th = document.createElement("th"); th.textContent = text; head.appendChild(th); });
    const body = element.createTBody();
    if (!rows.length) { const cell = body.insertRow().insertCell(); cell.colSpan = headers.length; cell.textContent = "No data 无数据"; }
    rows.forEach(function (row) {
      const tr = body.insertRow();
      row.forEach(function (value, index) {
        const td = tr.insertCell();
        td.textContent = value === null || value === undefined ? "–" : String(value);
        if (index > 0) td.className = "num";
      });
    });
  }

  const hours = function (seconds) { return seconds === null ? null : Math.round(seconds / 36) / 100; };
  const percent = function (share) { return share === null ? null : Math.round(share * 1000) / 10 + "%"; };

  function drawTrend(trend) {
    const c = chart("trend");
    if (c) c.setOption({ tooltip: { trigger: "axis" }, xAxis: { type: "category", data: trend.map(r => r.period) },
      yAxis: { type: "value", minInterval: 1 }, series: [{ type: "line", name: "投诉量", data: trend.map(r => r.complaints) }] }, true);
    table("trend", ["Period 周期", "Complaints 投诉量"], trend.map(r => [r.period, r.complaints]));
  }

  function drawCategories(categories) {
    const c = chart("categories");
    if (c) c.setOption({ tooltip: { trigger: "item" }, series: [
      { type: "pie", name: "一级类别", radius: [0, "35%"], label: { position: "inner" },
        data: categories.level1.map(r => ({ name: r.name, value: r.count })) },
      { type: "pie", name: "二级类别", radius: ["50%", "70%"], data: categories.level2.map(r => ({ name: r.name, value: r.count })) }] }, true);
    table("categories", ["Category 类别", "Complaints 投诉量"],
      categories.level1.map(r => ["【" + r.name + "】", r.count]).concat(categories.level2.map(r => [r.name + " (" + r.code + ")", r.count])));
  }

  function drawTimes(times) {
    const labels = ["First response 首次响应", "Resolution 解决"];
    const rows = [times.first_response, times.resolution];
    const c = chart("times");
    if (c) c.setOption({ tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: labels },
      yAxis: { type: "value", name: "hours 小时" }, series: [
        { type: "bar", name: "average 平均", data: rows.map(r => hours(r.avg_seconds)) },
        { type: "bar", name: "p90", data: rows.map(r => hours(r.p90_seconds)) }] }, true);
    table("times", ["Step 环节", "Cases 件数", "Average s 平均(秒)", "p90 s (秒)", "Average h 平均(小时)", "p90 h (小时)"],
      rows.map((r, i) => [labels[i], r.count, r.avg_seconds, r.p90_seconds, hours(r.avg_seconds), hours(r.p90_seconds)]));
  }

  function drawSla(sla) {
    const c = chart("sla");
    if (c) c.setOption({ tooltip: { trigger: "axis" }, legend: {}, xAxis: { type: "category", data: sla.map(r => r.group) },
      yAxis: { type: "value", max: 100, name: "%" }, series: [
        { type: "bar", name: "response 响应", data: sla.map(r => r.response_compliance === null ? null : r.response_compliance * 100) },
        { type: "bar", name: "resolution 解决", data: sla.map(r => r.resolution_compliance === null ? null : r.resolution_compliance * 100) }] }, true);
    table("sla", ["Group 组", "Response met 响应达标", "Response missed 响应超时", "Response % 响应达成率",
      "Resolution met 解决达标", "Resolution missed 解决超时", "Resolution % 解决达成率"],
      sla.map(r => [r.group, r.response_met, r.response_missed, percent(r.response_compliance),
        r.resolution_met, r.resolution_missed, percent(r.resolution_compliance)]));
  }

  function drawSatisfaction(s) {
    const c = chart("satisfaction");
    if (c) c.setOption({ series: [{ type: "gauge", min: 1, max: 5, detail: { formatter: "{value}" },
      data: [{ value: s.csat_avg === null ? 0 : s.csat_avg, name: "CSAT" }] }] }, true);
    table("satisfaction", ["Figure 指标", "Value 数值"], [
      ["Rated 评分数", s.rated], ["CSAT average 平均评分", s.csat_avg], ["Resolved 已解决", s.resolved],
      ["Satisfied within 72 h 72小时内确认满意", s.satisfied_72h], ["Share 占比", percent(s.satisfied_72h_share)]]);
  }

  function drawTop(id, rows) {
    const c = chart(id);
    if (c) c.setOption({ tooltip: {}, grid: { left: 120 }, xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: rows.map(r => r.name) },
      series: [{ type: "bar", data: rows.map(r => r.complaints) }] }, true);
    table(id, ["Name 名称", "Complaints 投诉量"], rows.map(r => [r.name, r.complaints]));
  }

  function drawRefunds(r) {
    const c = chart("refunds");
    if (c) c.setOption({ tooltip: { trigger: "item" }, legend: {}, series: [{ type: "pie", radius: ["40%", "70%"], data: [
      { name: "automatic 自动", value: r.automatic.count }, { name: "approved 审批", value: r.approved.count }] }] }, true);
    table("refunds", ["Figure 指标", "Value 数值"], [
      ["Refunds 退款笔数", r.count], ["Amount ¥ 金额", r.amount.toFixed(2)], ["Paid ¥ 已退金额", r.paid_amount.toFixed(2)],
      ["Automatic 自动退款", r.automatic.count], ["Automatic ¥ 自动金额", r.automatic.amount.toFixed(2)],
      ["Approved 审批退款", r.approved.count], ["Approved ¥ 审批金额", r.approved.amount.toFixed(2)],
      ["Failed 失败", r.failed], ["Unknown 状态未知", r.unknown]]);
  }

  function draw(data) {
    if (data.trend) {
      drawTrend(data.trend); drawCategories(data.categories); drawTimes(data.times); drawSla(data.sla);
      drawSatisfaction(data.satisfaction); drawTop("products", data.products); drawTop("regions", data.regions);
    }
    drawRefunds(data.refunds);
  }

  function load(query) {
    status.className = "dash-status";
    status.textContent = "Loading 加载中…";
    return fetch(form.dataset.endpoint + "?" + query, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
      .then(function (result) {
        if (!result.ok) { status.className = "dash-status error"; status.textContent = result.body.detail || "The filter is not valid"; return; }
        draw(result.body);
        const f = result.body.filter;
        status.textContent = "Showing 显示 " + f.start + " – " + f.end;
        status.dataset.loaded = query;
      })
      .catch(function () { status.className = "dash-status error"; status.textContent = "Could not load the figures; reload the page 加载失败"; });
  }

  function query() {
    return new URLSearchParams(Array.from(new FormData(form)).filter(function (pair) { return pair[1] !== ""; })).toString();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const q = query();
    window.history.replaceState(null, "", "?" + q);
    load(q);
  });
  window.addEventListener("resize", function () { Object.values(charts).forEach(function (c) { c.resize(); }); });
  load(query());
})();
