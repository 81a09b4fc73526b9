// weir dashboards: fetch each panel's data and draw it with ECharts (time
// series, bar charts, pies), as a number (stat, gauge) or as a table.
// Every panel ends with data-state set: "ok", "empty" or "error" (tests and
// people read it).
"use strict";

(function () {
  // At most four panel queries run at once, as Grafana limits its
  // concurrent data source requests: a dashboard does not flood Trino.
  const queue = Array.from(document.querySelectorAll("section.panel"));

  // A panel that reuses another's results (Grafana's Dashboard data
  // source) has that panel's URL: each URL is fetched once.
  const fetched = new Map();
  function load(src) {
    if (!fetched.has(src)) {
      fetched.set(src, fetch(src, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) return r.text().then(function (t) { throw new Error(r.status + " " + t); });
        return r.json();
      }));
    }
    return fetched.get(src);
  }
  for (let i = 0; i < 4; i++) next();

  function next() {
    const el = queue.shift();
    if (!el) return;
    load(el.dataset.src)
      .then(function (data) { draw(el, data); })
      .catch(function (err) { fail(el, String(err)); })
      .finally(next);
  }

  function body(el) { return el.querySelector(".body"); }

  function fail(el, msg) {
    const d = document.createElement("div");
    d.className = "error";
    d.textContent = msg;
    body(el).replaceChildren(d);
    el.dataset.state = "error";
  }

  function draw(el, data) {
    const errs = data.frames.filter(function (f) { return f.error; });
    if (errs.length) return fail(el, errs.map(function (f) { return f.refId + ": " + f.error; }).join("\n"));
    const tfs = JSON.parse(el.dataset.transformations || "null") || [];
    const frames = data.frames.map(function (f) { return tfs.reduce(transform, f); })
      .filter(function (f) { return f.rows && f.rows.length; });
    if (!frames.length) {
      const d = document.createElement("div");
      d.className = "stat muted";
      d.textContent = "No data";
      body(el).replaceChildren(d);
      el.dataset.state = "empty";
      return;
    }
    switch (el.dataset.type) {
      case "timeseries": chart(el, timeSeries(frames, data)); break;
      case "barchart": case "bargauge": chart(el, bars(frames[0], el.dataset.xfield)); break;
      case "piechart": chart(el, pie(frames[0])); break;
      case "stat": case "gauge": stat(el, frames[0]); break;
      default: table(el, frames[0]);
    }
  }

  function chart(el, option) {
    // A sparse series shows its points: one point draws no line.
    let points = 0;
    option.series.forEach(function (s) {
      const n = s.data.filter(function (d) { return d !== null && (!Array.isArray(d) || d[1] !== null); }).length;
      points += n;
      if (s.type === "line" && n < 60) s.showSymbol = true;
    });
    el.dataset.points = points;
    const div = document.createElement("div");
    div.className = "chart";
    body(el).replaceChildren(div);
    const c = echarts.init(div, null, { renderer: "canvas" });
    c.on("finished", function () { el.dataset.state = "ok"; });
    c.setOption(Object.assign({ animation: false, tooltip: { trigger: "axis" },
      grid: { left: 50, right: 16, top: 28, bottom: 28, containLabel: true } }, option));
    new ResizeObserver(function () { c.resize(); }).observe(div);
  }

  function idx(f, kind) { return f.columns.findIndex(function (c) { return c.kind === kind; }); }
  function cols(f, kind) {
    const out = [];
    f.columns.forEach(function (c, i) { if (c.kind === kind) out.push(i); });
    return out;
  }

  // A time series frame is wide (time, value...) or long (time, label,
  // value): long frames are pivoted by their label, as Grafana does.
  function timeSeries(frames, data) {
    const series = [];
    frames.forEach(function (f) {
      const t = idx(f, "time");
      if (t < 0) return;
      const nums = cols(f, "number");
      const labels = cols(f, "string");
      if (labels.length && nums.length) {
        const by = new Map();
        f.rows.forEach(function (r) {
          nums.forEach(function (n) {
            const key = labels.map(function (l) { return r[l]; }).join(" ") + (nums.length > 1 ? " " + f.columns[n].name : "");
            if (!by.has(key)) by.set(key, []);
            by.get(key).push([r[t], r[n]]);
          });
        });
        by.forEach(function (pts, name) { series.push({ name: name, type: "line", showSymbol: false, data: pts }); });
      } else {
        nums.forEach(function (n) {
          series.push({ name: f.columns[n].name, type: "line", showSymbol: false,
            data: f.rows.map(function (r) { return [r[t], r[n]]; }) });
        });
      }
    });
    return { legend: { type: "scroll", top: 0 }, xAxis: { type: "time", min: data.from, max: data.to },
      yAxis: { type: "value" }, series: series };
  }

  // transform applies one Grafana transformation to a frame, returning a
  // new frame (panels may share theirs): filterByValue with isNull or
  // isNotNull, organize's excludeByName and renameByName, and
  // convertFieldType to string. Others leave the frame as it is.
  function transform(f, t) {
    const o = t.options || {};
    const at = function (name) { return f.columns.findIndex(function (c) { return c.name === name; }); };
    switch (t.id) {
      case "filterByValue": {
        const tests = (o.filters || []).map(function (flt) {
          const i = at(flt.fieldName), id = flt.config && flt.config.id;
          return function (r) { return i >= 0 && (id === "isNull" ? r[i] === null : id === "isNotNull" ? r[i] !== null : false); };
        });
        const hit = function (r) { return o.match === "all" ? tests.every(function (tst) { return tst(r); }) : tests.some(function (tst) { return tst(r); }); };
        return Object.assign({}, f, { rows: f.rows.filter(function (r) { return o.type === "include" ? hit(r) : !hit(r); }) });
      }
      case "organize": {
        const ex = o.excludeByName || {}, ren = o.renameByName || {};
        const keep = [];
        f.columns.forEach(function (c, i) { if (!ex[c.name]) keep.push(i); });
        return Object.assign({}, f, {
          columns: keep.map(function (i) { return Object.assign({}, f.columns[i], { name: ren[f.columns[i].name] || f.columns[i].name }); }),
          rows: f.rows.map(function (r) { return keep.map(function (i) { return r[i]; }); }) });
      }
      case "convertFieldType": {
        const conv = {};
        (o.conversions || []).forEach(function (cv) { if (cv.destinationType === "string") conv[cv.targetField] = true; });
        return Object.assign({}, f, {
          columns: f.columns.map(function (c) { return conv[c.name] ? Object.assign({}, c, { kind: "string" }) : c; }),
          rows: f.rows.map(function (r) { return r.map(function (v, i) { return conv[f.columns[i].name] && v !== null ? String(v) : v; }); }) });
      }
    }
    return f;
  }

  // A bar chart's categories are its xField, else its first field that is
  // not a number; its bars every other number.
  function bars(f, xField) {
    let cat = f.columns.findIndex(function (c) { return c.name === xField; });
    if (cat < 0) cat = f.columns.findIndex(function (c) { return c.kind !== "number"; });
    const nums = cols(f, "number").filter(function (n) { return n !== cat; });
    const labels = f.rows.map(function (r) {
      const v = cat < 0 ? "" : r[cat];
      return f.columns[cat] && f.columns[cat].kind === "time" ? new Date(v).toISOString().slice(0, 16).replace("T", " ") : String(v);
    });
    return { legend: { top: 0 }, xAxis: { type: "category", data: labels }, yAxis: { type: "value" },
      series: nums.map(function (n) { return { name: f.columns[n].name, type: "bar", data: f.rows.map(function (r) { return r[n]; }) }; }) };
  }

  function pie(f) {
    const n = idx(f, "number");
    const l = f.columns.findIndex(function (c) { return c.kind !== "number"; });
    return { tooltip: { trigger: "item" }, series: [{ type: "pie", radius: "70%",
      data: f.rows.map(function (r) { return { name: String(r[l]), value: r[n] }; }) }] };
  }

  // A stat shows the last non-null number of its first numeric column.
  function stat(el, f) {
    const n = idx(f, "number");
    let v = null;
    f.rows.forEach(function (r) { if (n >= 0 && r[n] !== null) v = r[n]; });
    const d = document.createElement("div");
    d.className = "stat";
    d.textContent = v === null ? String(f.rows[f.rows.length - 1][0]) : format(v);
    body(el).replaceChildren(d);
    el.dataset.state = "ok";
  }

  function format(v) {
    if (typeof v !== "number") return String(v);
    if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(2) + "M";
    if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(1) + "k";
    return Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/\.?0+$/, "");
  }

  function table(el, f) {
    const t = document.createElement("table");
    const head = t.createTHead().insertRow();
    f.columns.forEach(function (c) {
      const th = document.createElement("th");
      th.textContent = c.name;
      head.appendChild(th);
    });
    const tb = t.createTBody();
    f.rows.slice(0, 500).forEach(function (r) {
      const tr = tb.insertRow();
      r.forEach(function (v, i) {
        const td = tr.insertCell();
        const kind = f.columns[i].kind;
        if (kind === "number") td.className = "num";
        td.textContent = v === null ? "" : kind === "time" ? new Date(v).toISOString().replace("T", " ").replace(".000Z", "Z") : kind === "number" ? format(v) : String(v);
      });
    });
    body(el).replaceChildren(t);
    el.dataset.state = "ok";
  }
})();
