/// The dashboard's script: one EventSource for the live lake, plain DOM building (text only, never HTML from data).
enum DashboardScript {
    static let js = #"""
        "use strict";
        const $ = (id) => document.getElementById(id);
        const view = { lake: null, clock: null, rules: null, events: [], scenario: null, selectedRule: null, panelTimer: null };
        const MAX_EVENTS = 400;

        function el(tag, attrs, ...children) {
          const e = document.createElement(tag);
          for (const [k, v] of Object.entries(attrs || {})) {
            if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
            else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
          }
          for (const c of children) if (c != null) e.append(c);
          return e;
        }
        function svg(tag, attrs) {
          const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
          for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
          return e;
        }
        function bytes(n) {
          const units = ["B", "kB", "MB", "GB", "TB", "PB"];
          let i = 0; n = Number(n) || 0;
          while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
          return (i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)) + " " + units[i];
        }
        function toast(msg) {
          const t = $("toast"); t.textContent = msg; t.classList.add("show");
          clearTimeout(toast.timer); toast.timer = setTimeout(() => t.classList.remove("show"), 3000);
        }
        async function call(method, path, body) {
          // A lake started with --control-token: the dashboard's address carries it after # (never sent to a server).
          const token = new URLSearchParams(location.hash.slice(1)).get("control-token");
          const headers = token ? { "Content-Type": "application/json", "X-Lakebed-Control-Token": token } : { "Content-Type": "application/json" };
          const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
          const text = await r.text();
          let doc = null; try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = text; }
          if (!r.ok) throw new Error((doc && doc.message) || (r.status + " " + r.statusText));
          return doc;
        }
        const act = (fn) => async (...a) => { try { await fn(...a); } catch (e) { toast(String(e.message || e)); } };

        // ---- clock and presenter controls
        function renderClock(c) {
          view.clock = c;  // the latest answer, from the stream or from a control call, drives the buttons
          $("clock").textContent = c.now.replace("T", " ").replace(/\.\d+Z$/, "Z");
          const mode = c.manual ? "manual clock" : c.paused ? "paused" : c.scale + "× real time";
          $("clock-mode").textContent = "(" + mode + ")";
          $("pause").textContent = c.paused && !c.manual ? "Resume" : "Pause";
          $("pause").disabled = c.manual;
          const sel = $("scale");
          if (document.activeElement !== sel) {
            const v = String(c.scale);
            if (![...sel.options].some((o) => o.value === v)) sel.append(el("option", { value: v, text: v + "×" }));
            sel.value = v;
          }
          document.body.dataset.clock = c.now;
        }
        $("pause").onclick = act(async () => {
          const c = await call("PUT", "/lakebed/clock", { paused: !(view.clock && view.clock.paused) });
          renderClock(c);
        });
        $("scale").onchange = act(async (ev) => renderClock(await call("PUT", "/lakebed/clock", { scale: Number(ev.target.value) })));
        $("advance1").onclick = act(async () => renderClock(await call("POST", "/lakebed/clock/advance", { seconds: 60 })));
        $("advance10").onclick = act(async () => renderClock(await call("POST", "/lakebed/clock/advance", { seconds: 600 })));

        async function loadScenario() {
          try {
            const doc = await call("GET", "/dashboard/api/scenario");
            view.scenario = doc.scenario;
          } catch (e) { view.scenario = null; }
          const s = view.scenario, menu = $("fault-menu");
          const faults = (s && Array.isArray(s.faults)) ? s.faults : [];
          $("faults").classList.toggle("hidden", !s);
          if (!s) return;
          $("scenario-name").textContent = "scenario " + (s.name || "");
          // Rebuilt on every scenario event: keep the presenter's choice (a reset must not swap the fault they picked).
          const chosen = menu.value;
          menu.replaceChildren(...faults.map((f) => el("option", { value: f.id, text: f.label || f.id })));
          if (faults.some((f) => f.id === chosen)) menu.value = chosen;
          $("inject").disabled = faults.length === 0;
        }
        $("inject").onclick = act(async () => {
          const id = $("fault-menu").value;
          if (!id) return;
          await call("POST", "/lakebed/inject", { fault: id });
          toast("injected " + ($("fault-menu").selectedOptions[0] || {}).textContent);
        });

        // ---- RSEs
        function siteCut(name) {
          const links = (view.lake && view.lake.links) || [];
          const touching = links.filter((l) => l.destination === name || l.source === name);
          return touching.length > 0 && touching.every((l) => l.down);
        }
        function renderRSEs(rses) {
          $("rse-count").textContent = rses.length;
          $("rses").replaceChildren(...rses.map((r) => {
            const cut = siteCut(r.name);
            const status = !r.up ? el("span", { class: "badge down", text: "DOWN" }) : cut ? el("span", { class: "badge cut", text: "CUT OFF" }) : el("span", { class: "badge up", text: "UP" });
            const btn = el("button", { class: cut ? "" : "danger", text: cut ? "Restore links" : "Break site", title: "Take every link to and from " + r.name + (cut ? " back up" : " down") });
            btn.onclick = act(async () => {
              await call("PUT", "/dashboard/api/rses/" + encodeURIComponent(r.name) + "/links", { down: !cut });
              toast((cut ? "restored " : "broke ") + r.name);
            });
            const avail = ["read", "write", "delete"].filter((k) => !r.availability[k]);
            return el("div", { class: "rse", "data-rse": r.name, "data-up": String(r.up) },
              el("div", { class: "name" }, el("span", { class: "rse-name", text: r.name, title: r.name }), status),
              el("div", { class: "meta" },
                // What `rucio replica list` lists (AVAILABLE), apart from what is still on its way or stuck.
                el("span", { class: "available", text: bytes(r.used) + " · " + r.files + " file" + (r.files === 1 ? "" : "s") }),
                r.incoming_files ? el("span", { class: "incoming", text: " · " + r.incoming_files + " arriving" }) : null,
                r.stuck_files ? el("span", { class: "stuck", text: " · " + r.stuck_files + " stuck" }) : null,
                avail.length ? " · no " + avail.join("/") : null),
              btn);
          }));
        }

        // ---- the network: RSEs on a circle, links between them, one dot per file in flight
        function renderNetwork(lake) {
          const g = $("network"), W = 600, H = 340, cx = W / 2, cy = H / 2 - 8, R = Math.min(W, H) / 2 - 48;
          const names = lake.rses.map((r) => r.name);
          const pos = {};
          names.forEach((n, i) => {
            const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, names.length);
            pos[n] = { x: cx + R * Math.cos(a) * 1.5, y: cy + R * Math.sin(a) };
          });
          const dots = {};
          for (const d of g.querySelectorAll(".dot")) dots[d.dataset.file] = d;
          const layerLinks = svg("g"), layerNodes = svg("g"), layerDots = g.querySelector("g.dots") || svg("g", { class: "dots" });
          // A link A→B is drawn slightly to one side of B→A, so both directions can be seen.
          const path = (s, d) => {
            const a = pos[s], b = pos[d]; if (!a || !b) return null;
            const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1, ox = (-dy / len) * 5, oy = (dx / len) * 5;
            return { x1: a.x + ox, y1: a.y + oy, x2: b.x + ox, y2: b.y + oy };
          };
          const busy = new Set(lake.transfers.map((t) => t.source + ">" + t.destination));
          for (const l of lake.links) {
            const p = path(l.source, l.destination); if (!p) continue;
            const cls = "link" + (l.down ? " down" : busy.has(l.source + ">" + l.destination) ? " busy" : "");
            layerLinks.append(svg("line", { ...p, class: cls, "data-link": l.source + ">" + l.destination }));
          }
          for (const r of lake.rses) {
            const p = pos[r.name];
            const node = svg("g", { class: "node" + (!r.up || siteCut(r.name) ? " down" : ""), transform: `translate(${p.x},${p.y})` });
            node.append(svg("circle", { r: 22 }));
            const t = svg("text", { y: 38, class: "label" }); t.textContent = r.name; node.append(t);
            const f = svg("text", { y: 4 }); f.textContent = r.files; node.append(f);
            layerNodes.append(node);
          }
          const seen = new Set();
          for (const t of lake.transfers) {
            const p = path(t.source, t.destination); if (!p) continue;
            const k = String(t.file_id); seen.add(k);
            const frac = t.bytes > 0 ? t.transferred / t.bytes : 0;
            let d = dots[k];
            if (!d) { d = svg("circle", { r: 6, class: "dot", "data-file": k }); layerDots.append(d); }
            d.style.transform = `translate(${p.x1 + (p.x2 - p.x1) * frac}px, ${p.y1 + (p.y2 - p.y1) * frac}px)`;
          }
          for (const [k, d] of Object.entries(dots)) if (!seen.has(k)) d.remove();
          g.replaceChildren(layerLinks, layerNodes, layerDots);
        }

        function renderTransfers(transfers) {
          $("transfer-count").textContent = transfers.length ? transfers.length + " moving" : "";
          const rows = transfers.map((t) => {
            const pct = t.bytes > 0 ? Math.round((100 * t.transferred) / t.bytes) : 0;
            return el("tr", { "data-file": String(t.file_id) },
              el("td", { class: "did", text: t.did || t.job_id }),
              el("td", { text: t.source + " → " + t.destination }),
              el("td", {}, el("div", { class: "progress", title: pct + "% of " + bytes(t.bytes) }, el("span", { style: "width:" + pct + "%" }))));
          });
          if (!rows.length) rows.push(el("tr", {}, el("td", { class: "empty", colSpan: 3, text: "no transfers in flight" })));
          document.querySelector("#transfers tbody").replaceChildren(...rows);
        }

        // ---- rules
        function lockBar(r) {
          const total = Math.max(1, r.locks_ok + r.locks_replicating + r.locks_stuck);
          const seg = (cls, n, what) => el("span", { class: cls, style: "width:" + (100 * n) / total + "%", title: n + " " + what });
          return el("div", { class: "bar", title: `${r.locks_ok} OK · ${r.locks_replicating} replicating · ${r.locks_stuck} stuck` },
            seg("ok", r.locks_ok, "OK"), seg("rep", r.locks_replicating, "replicating"), seg("stuck", r.locks_stuck, "stuck"));
        }
        function renderRules(doc) {
          const c = doc.counts;
          $("rule-count").textContent = `${doc.total} · ${c.OK} OK · ${c.REPLICATING} replicating · ${c.STUCK} stuck`;
          const rows = doc.rules.map((r) => {
            const tr = el("tr", { "data-rule": r.id, "data-state": r.state, class: r.id === view.selectedRule ? "selected" : "" },
              el("td", { class: "state" }, el("span", { class: "badge " + r.state, text: r.state }), r.retry ? el("span", { class: "retry", text: " · " + r.retry }) : null),
              el("td", { class: "did" }, r.did, r.error ? el("div", { class: "error", text: r.error }) : null),
              el("td", { text: r.copies + "× " + r.rse_expression }),
              el("td", {}, lockBar(r), el("div", { class: "meta", style: "font-size:11px;color:var(--dim)", text: `${r.locks_ok}/${r.locks_ok + r.locks_replicating + r.locks_stuck} locks OK` })));
            tr.onclick = () => openRule(r.id);
            return tr;
          });
          if (!rows.length) rows.push(el("tr", {}, el("td", { class: "empty", colSpan: 4, text: "no rules yet: rucio rule add …" })));
          document.querySelector("#rules tbody").replaceChildren(...rows);
        }

        function table(headers, rows) {
          if (!rows.length) return el("p", { class: "empty", text: "none" });
          return el("table", {}, el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { text: h })))),
            el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c) => c instanceof Node ? el("td", {}, c) : el("td", { text: c == null ? "" : String(c) }))))));
        }
        const badge = (s) => el("span", { class: "badge " + s, text: s });
        // Lake time with its date (a clock at 3600× crosses midnight every 24 s), to the second; the title has it all.
        const shortTime = (t) => (t || "").replace("T", " ").replace(/(\.\d+)?Z$/, "");

        async function openRule(id) {
          view.selectedRule = id;
          for (const tr of document.querySelectorAll("#rules tbody tr")) tr.classList.toggle("selected", tr.dataset.rule === id);
          $("panel").classList.add("open");
          await refreshPanel();
        }
        async function refreshPanel() {
          const id = view.selectedRule; if (!id) return;
          let d;
          try { d = await call("GET", "/dashboard/api/rules/" + encodeURIComponent(id)); }
          catch (e) { $("panel-body").replaceChildren(el("p", { class: "error", text: String(e.message || e) })); return; }
          if (id !== view.selectedRule) return;
          const r = d.rule;
          $("panel-title").replaceChildren("Rule ", el("code", { text: r.id.slice(0, 12) + "…" }), " ", badge(r.state),
            ...(r.retry ? [el("span", { class: "retry", text: " · " + r.retry })] : []));
          $("panel").dataset.rule = r.id;
          $("panel-body").replaceChildren(...[
            el("p", {}, el("span", { class: "did", text: r.did }), " → ", r.copies + "× ", el("code", { text: r.rse_expression }), " · account " + r.account),
            lockBar(r),
            r.error ? el("p", { class: "error", text: r.error }) : null,
            el("h3", { text: "Locks" }),
            table(["file", "RSE", "state", "size"], d.locks.map((l) => [l.did, l.rse, badge(l.state), bytes(l.bytes)])),
            el("h3", { text: "Transfer requests" }),
            // Rucio counts retries from 0; a person counts tries from 1.
            table(["file", "from → to", "state", "tries", "error"], d.requests.map((q) => [q.did, (q.source || "?") + " → " + q.destination, badge(q.state), q.retry_count + 1, q.error])),
            el("h3", { text: "History" }),
            el("ul", { id: "panel-events" }, ...d.events.slice().reverse().map(eventItem))].filter((c) => c != null));
        }
        $("panel-close").onclick = () => { view.selectedRule = null; $("panel").classList.remove("open"); renderRules(view.rules || { counts: {}, total: 0, rules: [] }); };

        // ---- event log
        function eventItem(e) {
          const fields = Object.entries(e).filter(([k]) => !["seq", "time", "kind"].includes(k)).map(([k, v]) => k + "=" + v).join(" ");
          const cls = e.kind.replace(".", "-") + " " + e.kind.split(".")[0];
          return el("li", { class: cls, "data-seq": String(e.seq), title: e.time + " " + e.kind + " " + fields },
            el("span", { class: "t", text: shortTime(e.time) + " " }), el("span", { class: "k", text: e.kind }), " " + fields);
        }
        function addEvents(events) {
          if (!events.length) return;
          const ul = $("events");
          for (const e of events) ul.prepend(eventItem(e));
          while (ul.children.length > MAX_EVENTS) ul.lastChild.remove();
          view.events = view.events.concat(events).slice(-MAX_EVENTS);
          $("event-count").textContent = "last #" + events[events.length - 1].seq;
          if (events.some((e) => e.kind.startsWith("scenario."))) loadScenario();
          if (view.selectedRule) { clearTimeout(view.panelTimer); view.panelTimer = setTimeout(refreshPanel, 150); }
        }

        // ---- live updates
        function applyLake(lake) {
          view.lake = lake;
          renderClock(lake.clock); renderRSEs(lake.rses); renderNetwork(lake); renderTransfers(lake.transfers);
        }
        function applyRules(rules) { view.rules = rules; renderRules(rules); }
        function connect() {
          const es = new EventSource("/dashboard/api/stream");
          es.addEventListener("open", () => { $("conn").className = "open"; $("conn").textContent = "live"; document.body.dataset.stream = "open"; });
          es.addEventListener("error", () => { $("conn").className = "closed"; $("conn").textContent = "reconnecting…"; document.body.dataset.stream = "closed"; });
          es.addEventListener("lake", (m) => applyLake(JSON.parse(m.data)));
          es.addEventListener("rules", (m) => applyRules(JSON.parse(m.data)));
          es.addEventListener("log", (m) => addEvents(JSON.parse(m.data)));
        }
        (async () => {
          const s = await call("GET", "/dashboard/api/state");
          applyLake(s.lake); applyRules(s.rules);
          await loadScenario();
          connect();
          document.body.dataset.ready = "true";
        })().catch((e) => toast(String(e.message || e)));
        """#
}
