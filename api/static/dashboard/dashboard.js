/*
 * Creator dashboard (contract section 10).
 *
 * Signs in with a creator token (pasted, or `#token=<JWT>` in the address, which is removed from
 * the address bar at once), keeps it in this tab's memory only, and reads one thing through
 * /graphql: `creatorAudience` for the token's own `sub`, with one parameterised query document.
 * Everything shown is built with textContent (never innerHTML), numbers with Intl for the
 * reader's locale, and every chart has a data table behind it.
 */
"use strict";

(function () {
  const ENDPOINT = "/graphql";

  // One document for every request; the performance part is included once a segment is known.
  const QUERY = `query CreatorDashboard($creatorId: ID!, $withPerformance: Boolean!,
    $segmentType: SegmentDimension!, $segmentValue: String!) {
  creatorAudience(creatorId: $creatorId) {
    creatorId withheld withheldReason asOf
    privacy { minimumViewers note }
    overview { totalAudience payingAudience payingPercentage averageRevenuePerViewer
               topSegmentDescription }
    breakdown { budget { ...Cell } intent { ...Cell } proximity { ...Cell } passion { ...Cell } }
    topSegments(limit: 5) { rank key budget intent proximity description count percentage
                            averageRevenue revenueShare characteristics }
    recommendations { primaryStrategy reasoning tips opportunities }
    messaging { dimension key label percentage tone themes }
    growth { last7Days { ...Window } last30Days { ...Window } }
    week: segmentPerformance(segmentType: $segmentType, segmentValue: $segmentValue, days: 7)
      @include(if: $withPerformance) { ...Performance }
    month: segmentPerformance(segmentType: $segmentType, segmentValue: $segmentValue, days: 30)
      @include(if: $withPerformance) { ...Performance }
    quarter: segmentPerformance(segmentType: $segmentType, segmentValue: $segmentValue, days: 90)
      @include(if: $withPerformance) { ...Performance }
  }
}
fragment Cell on BreakdownCell { key label description count percentage averageRevenue revenueShare }
fragment Window on GrowthWindow { days available note comparedWith audienceChange
  audienceChangePercentage payingAudienceChange
  tiers { segmentType key label countChange shareChange } }
fragment Figures on PerformanceFigures { impressions interactions conversions interactionRate
  conversionRate revenuePerConversion }
fragment Performance on SegmentPerformance { segmentType segmentValue label days since until
  withheld withheldReason segment { ...Figures } baseline { ...Figures }
  conversionRateVsBaseline conversionRateDifference }`;

  const BREAKDOWNS = [
    ["budget", "Budget", "How much they spend with you"],
    ["intent", "Intent", "How they like to interact"],
    ["proximity", "Proximity", "How far away they live"],
    ["passion", "Passion signals", "What draws them to you"],
  ];
  const SEGMENT_TYPES = { budget: "BUDGET", intent: "INTENT", proximity: "PROXIMITY" };
  // Okabe–Ito: told apart with every common colour vision deficiency.
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999"];

  const locale = undefined; // the reader's own (navigator.languages)
  const integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const decimal = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
  const signed = new Intl.NumberFormat(locale, { signDisplay: "exceptZero", maximumFractionDigits: 1 });
  const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  const signedPercent = new Intl.NumberFormat(locale,
    { style: "percent", signDisplay: "exceptZero", maximumFractionDigits: 1 });
  const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  const dayFormat = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" });

  const HIDDEN = "hidden for privacy";

  const state = { token: null, creatorId: null, audience: null, charts: [], segment: null };

  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  const fmt = {
    count: (v) => (v === null || v === undefined ? HIDDEN : integer.format(v)),
    number: (v) => (v === null || v === undefined ? HIDDEN : decimal.format(v)),
    pct: (v) => (v === null || v === undefined ? HIDDEN : percent.format(v / 100)),
    change: (v) => (v === null || v === undefined ? "—" : signed.format(v)),
    pctChange: (v) => (v === null || v === undefined ? "—" : signedPercent.format(v / 100)),
    points: (v) => (v === null || v === undefined ? "—" : `${signed.format(v)} pts`),
    day: (iso) => (iso ? dayFormat.format(new Date(`${iso}T00:00:00Z`)) : "—"),
  };

  // --- the token --------------------------------------------------------------------------------

  function decodeClaims(token) {
    const parts = token.split(".");
    if (parts.length !== 3) return null;
    try {
      const b64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
      const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
      const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
      const claims = JSON.parse(new TextDecoder().decode(bytes));
      return claims && typeof claims === "object" ? claims : null;
    } catch (_) {
      return null;
    }
  }

  /** Take `#token=` out of the address before anything else runs, so it is not kept in history. */
  function tokenFromAddress() {
    const hash = window.location.hash.replace(/^#/, "");
    if (!hash) return null;
    const params = new URLSearchParams(hash);
    const token = params.get("token");
    if (token === null) return null;
    params.delete("token");
    const rest = params.toString();
    const clean = window.location.pathname + window.location.search + (rest ? `#${rest}` : "");
    window.history.replaceState(null, "", clean);
    return token.trim();
  }

  function signIn(token) {
    const claims = decodeClaims(token);
    if (!claims || typeof claims.sub !== "string" || !claims.sub) {
      showSignIn("That does not look like a token. Paste the whole token (three parts separated by dots).");
      return;
    }
    if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) {
      showSignIn(`This token expired on ${dateTime.format(new Date(claims.exp * 1000))}. ` +
        "Sign in again with a fresh token.");
      return;
    }
    state.token = token;
    state.creatorId = claims.sub;
    state.segment = null;
    $("who").textContent = `Signed in as ${claims.sub}`;
    $("session").hidden = false;
    $("sign-in").hidden = true;
    load();
  }

  function signOut(message) {
    state.token = null;
    state.creatorId = null;
    state.audience = null;
    state.segment = null;
    destroyCharts();
    $("session").hidden = true;
    $("dashboard").hidden = true;
    $("withheld").hidden = true;
    showSignIn(message);
  }

  function showSignIn(message) {
    state.token = null;
    $("session").hidden = true;
    $("dashboard").hidden = true;
    $("withheld").hidden = true;
    $("sign-in").hidden = false;
    $("token-input").value = "";
    if (message) showAlert(message, false);
    else hideAlert();
    $("token-input").focus();
  }

  // --- talking to the server --------------------------------------------------------------------

  class ApiError extends Error {
    constructor(code, message) {
      super(message);
      this.code = code;
    }
  }

  async function fetchAudience(segment) {
    const variables = {
      creatorId: state.creatorId,
      withPerformance: Boolean(segment),
      // unused while withPerformance is false, but the variables are declared non-null
      segmentType: segment ? segment.type : "BUDGET",
      segmentValue: segment ? segment.value : "",
    };
    let response;
    try {
      response = await fetch(ENDPOINT, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/graphql-response+json, application/json;q=0.9",
          Authorization: `Bearer ${state.token}`,
        },
        body: JSON.stringify({ query: QUERY, variables, operationName: "CreatorDashboard" }),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (_) {
      throw new ApiError("NETWORK", "The server could not be reached.");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      throw new ApiError("HTTP", `The server answered ${response.status} without a GraphQL response.`);
    }
    const errors = (body && body.errors) || [];
    if (errors.length) {
      const first = errors[0];
      const code = (first.extensions && first.extensions.code) || "ERROR";
      throw new ApiError(code, first.message || "The request failed.");
    }
    const audience = body && body.data && body.data.creatorAudience;
    if (!audience) throw new ApiError("EMPTY", "The server sent no audience.");
    return audience;
  }

  async function load() {
    hideAlert();
    setStatus("Loading your audience…");
    try {
      const audience = await fetchAudience(null);
      state.audience = audience;
      setStatus("");
      render(audience);
      if (!audience.withheld) {
        state.segment = state.segment || defaultSegment(audience);
        fillSegmentPicker(audience);
        await loadPerformance();
      }
    } catch (error) {
      setStatus("");
      handleError(error);
    }
  }

  async function loadPerformance() {
    const box = $("performance");
    if (!state.segment) {
      box.replaceChildren(el("p", { text: "No segment is shown on its own yet, so there is no " +
        "segment to follow over time." }));
      return;
    }
    box.replaceChildren(el("p", { className: "hint", text: "Loading segment performance…" }));
    try {
      const audience = await fetchAudience(state.segment);
      renderPerformance(audience);
    } catch (error) {
      box.replaceChildren();
      handleError(error);
    }
  }

  function handleError(error) {
    const code = error instanceof ApiError ? error.code : "ERROR";
    if (code === "UNAUTHENTICATED") {
      signOut("Your sign-in was not accepted: the token has expired or is not valid. " +
        "Sign in again with a fresh creator token.");
    } else if (code === "FORBIDDEN") {
      signOut(`This token may not read the audience of “${state.creatorId}”. ` +
        "Sign in with that creator's own token.");
    } else {
      showAlert(`${error.message} (${code})`, true);
    }
  }

  // --- rendering --------------------------------------------------------------------------------

  function setStatus(text) {
    $("status").textContent = text;
  }

  function showAlert(text, canRetry) {
    $("alert-text").textContent = text;
    $("alert-retry").hidden = !canRetry;
    $("alert").hidden = false;
  }

  function hideAlert() {
    $("alert").hidden = true;
  }

  function destroyCharts() {
    for (const chart of state.charts) chart.destroy();
    state.charts = [];
  }

  function render(audience) {
    destroyCharts();
    const privacyNote = (audience.privacy && audience.privacy.note) || "";
    if (audience.withheld) {
      $("dashboard").hidden = true;
      $("withheld-reason").textContent = audience.withheldReason ||
        "Your audience is below the privacy floor, so no figures are shown yet.";
      $("withheld-privacy").textContent = privacyNote;
      $("withheld").hidden = false;
      $("withheld-title").focus();
      return;
    }
    $("withheld").hidden = true;
    $("as-of").textContent = audience.asOf
      ? `Figures as of ${dateTime.format(new Date(audience.asOf))}. They move in batches of viewers.`
      : "";
    $("privacy-note").textContent = privacyNote;
    $("dashboard").hidden = false;
    renderOverview(audience.overview || {});
    renderBreakdowns(audience.breakdown || {});
    renderGrowth(audience.growth);
    renderTopSegments(audience.topSegments || []);
    renderRecommendations(audience.recommendations, audience.messaging || []);
    $("performance").replaceChildren();
  }

  function setFigure(id, text) {
    const node = $(id);
    node.textContent = text;
    node.classList.toggle("hidden-figure", text === HIDDEN);
  }

  function renderOverview(overview) {
    setFigure("total-audience", fmt.count(overview.totalAudience));
    setFigure("paying-audience", fmt.count(overview.payingAudience));
    setFigure("paying-percentage", fmt.pct(overview.payingPercentage));
    setFigure("revenue-per-viewer", fmt.number(overview.averageRevenuePerViewer));
    $("top-segment").textContent = overview.topSegmentDescription || "none shown on its own yet";
  }

  function table(caption, headers, rows, numeric) {
    return el("div", { className: "table-wrap" },
      el("table", {},
        el("caption", { text: caption }),
        el("thead", {}, el("tr", {}, headers.map((h, i) =>
          el("th", { scope: "col", className: numeric[i] ? "num" : null, text: h })))),
        el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell, i) =>
          i === 0 ? el("th", { scope: "row", text: cell })
            : el("td", { className: numeric[i] ? "num" : null, text: cell })))))));
  }

  /** A chart with a caption, an image role for screen readers and its data table below. */
  function chartFigure(id, summary, config, dataTable) {
    const canvas = el("canvas", { id, role: "img", "aria-label": summary });
    const holder = el("div", { className: "chart" }, canvas);
    const details = el("details", {}, el("summary", { text: "Show the data as a table" }), dataTable);
    const chartJs = window.Chart;
    if (chartJs) {
      config.options = Object.assign({
        responsive: true,
        maintainAspectRatio: false,
        animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : undefined,
      }, config.options || {});
      // Chart.js needs the canvas in the document to measure it: draw after insertion.
      queueMicrotask(() => state.charts.push(new chartJs(canvas, config)));
    }
    return [holder, details];
  }

  function renderBreakdowns(breakdown) {
    const box = $("breakdowns");
    box.replaceChildren();
    for (const [kind, title, question] of BREAKDOWNS) {
      const rows = breakdown[kind] || [];
      if (kind === "passion" && !rows.length) continue;
      const card = el("section", { className: "card", "aria-labelledby": `bd-${kind}-title`,
        "data-breakdown": kind },
      el("h3", { id: `bd-${kind}-title`, text: title }),
      el("p", { className: "hint", text: question }));
      if (!rows.length) {
        card.append(el("p", { text: "No tier is shown on its own yet." }));
        box.append(card);
        continue;
      }
      const summary = `${title}: ` + rows.map((r) => `${r.label} ${fmt.pct(r.percentage)}`).join(", ");
      const dataTable = table(`${title} breakdown`,
        ["Segment", "Share", "Viewers", "Tokens per viewer", "Revenue share"],
        rows.map((r) => [r.label, fmt.pct(r.percentage), fmt.count(r.count),
          fmt.number(r.averageRevenue), fmt.pct(r.revenueShare)]),
        [false, true, true, true, true]);
      card.append(...chartFigure(`chart-${kind}`, summary, {
        type: "bar",
        data: {
          labels: rows.map((r) => r.label),
          datasets: [{
            label: "Share of audience",
            data: rows.map((r) => r.percentage),
            backgroundColor: rows.map((_, i) => PALETTE[i % PALETTE.length]),
          }],
        },
        options: {
          indexAxis: "y",
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { label: (item) => fmt.pct(item.raw) } },
          },
          scales: {
            x: { min: 0, max: 100, ticks: { callback: (v) => percent.format(v / 100) } },
          },
        },
      }, dataTable));
      box.append(card);
    }
  }

  function changeClass(v) {
    if (v === null || v === undefined || v === 0) return null;
    return v > 0 ? "change-up" : "change-down";
  }

  function renderGrowth(growth) {
    const windows = growth ? [growth.last7Days, growth.last30Days].filter(Boolean) : [];
    const box = $("growth-windows");
    box.replaceChildren();
    const chartBox = $("growth-chart");
    chartBox.replaceChildren();
    if (!windows.length) {
      box.append(el("p", { text: "No growth figures yet." }));
      return;
    }
    for (const w of windows) {
      const card = el("section", { className: "card", "data-growth": w.days },
        el("h3", { text: `Last ${integer.format(w.days)} days` }));
      if (!w.available) {
        card.append(el("p", { text: w.note || "Not enough history yet." }));
      } else {
        card.append(el("dl", { className: "figures" },
          el("div", {}, el("dt", { text: "Audience" }),
            el("dd", { className: changeClass(w.audienceChange), text: fmt.change(w.audienceChange) })),
          el("div", {}, el("dt", { text: "Audience, relative" }),
            el("dd", { className: changeClass(w.audienceChangePercentage),
              text: fmt.pctChange(w.audienceChangePercentage) })),
          el("div", {}, el("dt", { text: "Paying audience" }),
            el("dd", { className: changeClass(w.payingAudienceChange),
              text: fmt.change(w.payingAudienceChange) }))),
        el("p", { className: "hint", text: `Compared with ${fmt.day(w.comparedWith)}.` }));
      }
      box.append(card);
    }
    // Tier changes of both windows in one chart: the tiers shown at both ends of either window.
    const keyOf = (t) => `${t.segmentType}:${t.key}`;
    const tiers = new Map();
    for (const w of windows) {
      if (!w.available) continue;
      for (const t of w.tiers || []) if (!tiers.has(keyOf(t))) tiers.set(keyOf(t), t.label);
    }
    if (!tiers.size) return;
    const keys = [...tiers.keys()];
    const shown = windows.filter((w) => w.available);
    const changeFor = (w, k) => {
      const t = (w.tiers || []).find((x) => keyOf(x) === k);
      return t ? t.countChange : null;
    };
    const summary = "Change in viewers per segment: " + shown.map((w) =>
      `last ${w.days} days ` + keys.map((k) => `${tiers.get(k)} ${fmt.change(changeFor(w, k))}`)
        .join(", ")).join("; ");
    const dataTable = table("Change in viewers per segment",
      ["Segment", ...shown.map((w) => `Last ${w.days} days`)],
      keys.map((k) => [tiers.get(k), ...shown.map((w) => fmt.change(changeFor(w, k)))]),
      [false, ...shown.map(() => true)]);
    chartBox.append(el("h3", { text: "Change in viewers per segment" }),
      ...chartFigure("chart-growth", summary, {
        type: "bar",
        data: {
          labels: keys.map((k) => tiers.get(k)),
          datasets: shown.map((w, i) => ({
            label: `Last ${w.days} days`,
            data: keys.map((k) => changeFor(w, k)),
            backgroundColor: PALETTE[i % PALETTE.length],
          })),
        },
        options: {
          plugins: { tooltip: { callbacks: { label: (item) =>
            `${item.dataset.label}: ${fmt.change(item.raw)}` } } },
          scales: { y: { ticks: { precision: 0, callback: (v) => signed.format(v) } } },
        },
      }, dataTable));
  }

  function renderTopSegments(segments) {
    const box = $("top-segments");
    if (!segments.length) {
      box.replaceChildren(el("p", { text: "No combined segment holds enough viewers to be shown on its own yet." }));
      return;
    }
    box.replaceChildren(el("ol", { className: "segments" }, segments.map((s) =>
      el("li", { "data-segment": s.key },
        el("h3", { text: s.description }),
        el("p", { className: "segment-figures" },
          el("span", { text: `${fmt.count(s.count)} viewers` }),
          el("span", { text: `${fmt.pct(s.percentage)} of your audience` }),
          s.averageRevenue === null || s.averageRevenue === undefined ? null
            : el("span", { text: `${fmt.number(s.averageRevenue)} tokens per viewer` })),
        (s.characteristics || []).length
          ? el("ul", { className: "plain" }, s.characteristics.map((c) => el("li", { text: c })))
          : null))));
  }

  function renderRecommendations(reco, messaging) {
    const box = $("recommendations");
    box.replaceChildren();
    if (!reco) {
      box.append(el("p", { text: "No recommendations yet." }));
    } else {
      box.append(el("h3", { text: reco.primaryStrategy }), el("p", { text: reco.reasoning }));
      if ((reco.tips || []).length) {
        box.append(el("h3", { text: "Tips" }),
          el("ul", { className: "plain" }, reco.tips.map((t) => el("li", { text: t }))));
      }
      if ((reco.opportunities || []).length) {
        box.append(el("h3", { text: "Opportunities" }),
          el("ul", { className: "plain" }, reco.opportunities.map((t) => el("li", { text: t }))));
      }
    }
    const themes = $("messaging");
    themes.replaceChildren();
    if (messaging.length) {
      themes.append(el("h3", { text: "Message themes" }),
        el("ul", { className: "plain" }, messaging.map((m) => el("li", {},
          el("strong", { text: m.label }),
          ` (${fmt.pct(m.percentage)} of your audience, ${m.tone} tone): `,
          (m.themes || []).join("; ")))));
    }
  }

  // --- segment performance ----------------------------------------------------------------------

  /** The tiers shown on their own (OTHER merges several, so it has no performance). */
  function segmentChoices(audience) {
    const choices = [];
    const breakdown = audience.breakdown || {};
    for (const [kind, type] of Object.entries(SEGMENT_TYPES)) {
      for (const row of breakdown[kind] || []) {
        if (row.key === "OTHER") continue;
        choices.push({ type, value: row.key, label: `${row.label} (${kind})` });
      }
    }
    return choices;
  }

  /** The top combined segment's budget tier when shown on its own, else the first tier shown. */
  function defaultSegment(audience) {
    const choices = segmentChoices(audience);
    const top = (audience.topSegments || [])[0];
    if (top) {
      const match = choices.find((c) => c.type === "BUDGET" && c.value === top.budget);
      if (match) return match;
    }
    return choices[0] || null;
  }

  function fillSegmentPicker(audience) {
    const select = $("perf-segment");
    const choices = segmentChoices(audience);
    select.replaceChildren(...choices.map((c) => el("option", {
      value: `${c.type}:${c.value}`, text: c.label,
      selected: state.segment && c.type === state.segment.type && c.value === state.segment.value,
    })));
    $("perf-form").hidden = !choices.length;
  }

  function renderPerformance(audience) {
    const box = $("performance");
    const reports = [audience.week, audience.month, audience.quarter].filter(Boolean);
    box.replaceChildren();
    if (!reports.length) return;
    const withheld = reports.find((r) => r.withheld);
    if (withheld) {
      box.append(el("p", { text: withheld.withheldReason || "This segment's performance is withheld." }));
      return;
    }
    const name = reports[0].label;
    const windowName = (r) => `Last ${integer.format(r.days)} days`;
    const metrics = [["impressions", "Impressions"], ["interactions", "Interactions"],
      ["conversions", "Conversions"]];
    const summary = `${name}: ` + reports.map((r) => `${windowName(r)} ` + metrics.map(([k, l]) =>
      `${l.toLowerCase()} ${fmt.count(r.segment[k])}`).join(", ")).join("; ");
    const rows = [
      ...metrics.map(([k, l]) => [l, ...reports.map((r) => fmt.count(r.segment[k]))]),
      ["Conversion rate", ...reports.map((r) => fmt.pct(r.segment.conversionRate))],
      ["Tokens per conversion", ...reports.map((r) => fmt.number(r.segment.revenuePerConversion))],
      ...metrics.map(([k, l]) => [`All viewers: ${l.toLowerCase()}`,
        ...reports.map((r) => fmt.count(r.baseline[k]))]),
      ["All viewers: conversion rate", ...reports.map((r) => fmt.pct(r.baseline.conversionRate))],
      ["Conversion rate against all viewers",
        ...reports.map((r) => fmt.points(r.conversionRateDifference))],
    ];
    const dataTable = table(`${name} against your whole audience, whole UTC days ending ` +
      `${fmt.day(reports[0].until)}`,
      ["Figure", ...reports.map(windowName)], rows,
      [false, ...reports.map(() => true)]);
    const anyShown = reports.some((r) => metrics.some(([k]) => r.segment[k] !== null));
    box.append(el("p", { text: `${name}: how often you were shown to them, how often that led ` +
      "to an interaction and to a paid conversion, over the last 7, 30 and 90 whole days." }));
    if (!anyShown) {
      box.append(el("p", { text: "None of these figures is large enough to show yet: each " +
        "stands for at least ten viewers or events." }), dataTable);
      return;
    }
    box.append(...chartFigure("chart-performance", summary, {
      type: "bar",
      data: {
        labels: reports.map(windowName),
        datasets: metrics.map(([k, l], i) => ({
          label: l,
          data: reports.map((r) => r.segment[k]),
          backgroundColor: PALETTE[i % PALETTE.length],
        })),
      },
      options: {
        plugins: { tooltip: { callbacks: { label: (item) =>
          `${item.dataset.label}: ${fmt.count(item.raw)}` } } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0, callback: (v) => integer.format(v) } } },
      },
    }, dataTable));
    const details = box.querySelector("details");
    if (details) details.open = true; // the totals are the point of this panel
  }

  // --- wiring -----------------------------------------------------------------------------------

  function start() {
    $("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token-input").value.trim();
      $("token-input").value = "";
      signIn(token);
    });
    $("sign-out").addEventListener("click", () => signOut("You are signed out."));
    $("refresh").addEventListener("click", () => load());
    $("alert-retry").addEventListener("click", () => (state.token ? load() : showSignIn()));
    $("perf-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const [type, value] = $("perf-segment").value.split(":");
      if (!type) return;
      state.segment = { type, value };
      loadPerformance();
    });
    if (!window.Chart) {
      showAlert("The chart library did not load; the figures are shown as tables.", false);
    }
    const token = tokenFromAddress();
    if (token) signIn(token);
    else showSignIn();
  }

  // Run before the first paint where possible so the token leaves the address bar at once.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
