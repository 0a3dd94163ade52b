/// The dashboard page: HTML and CSS here, the script in `DashboardScript`; everything ships in the binary.
enum DashboardPage {
    static let html = head + body + "<script>\n" + DashboardScript.js + "\n</script>\n</body>\n</html>\n"

    static let head = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Lakebed dashboard</title>
        <link rel="icon" href="data:,">
        <style>
        :root { --bg:#0f1720; --panel:#17212c; --line:#2a3847; --text:#dce6ef; --dim:#8da2b5; --ok:#3fb950; --rep:#4aa3ff;
                --stuck:#f85149; --warn:#d29922; --accent:#a371f7; }
        * { box-sizing: border-box; }
        body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--text); }
        header { display:flex; flex-wrap:wrap; align-items:center; gap:10px; padding:10px 16px; background:var(--panel); border-bottom:1px solid var(--line); }
        header .group { flex-wrap:nowrap; white-space:nowrap; }
        #scenario-name { max-width:190px; overflow:hidden; text-overflow:ellipsis; }
        #fault-menu { max-width:230px; }
        header h1 { font-size:18px; margin:0 8px 0 0; }
        header .group { display:flex; align-items:center; gap:6px; }
        #clock { font-family:ui-monospace, monospace; font-size:15px; }
        #clock-mode { color:var(--dim); }
        button, select { background:#223142; color:var(--text); border:1px solid var(--line); border-radius:6px; padding:4px 10px; font:inherit; cursor:pointer; }
        button:hover { border-color:var(--rep); }
        button.danger { border-color:#6e2b2b; } button.danger:hover { border-color:var(--stuck); }
        #conn { margin-left:auto; font-size:12px; color:var(--dim); }
        #conn.open::before { content:"● "; color:var(--ok); } #conn.closed::before { content:"● "; color:var(--stuck); }
        main { display:grid; grid-template-columns: minmax(360px, 1fr) minmax(420px, 1.3fr); gap:12px; padding:12px; }
        section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; min-width:0; }
        section h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:0 0 8px; display:flex; gap:8px; align-items:baseline; }
        section h2 .count { text-transform:none; letter-spacing:0; }
        #network-section { grid-row: span 2; }
        #network { width:100%; height:340px; }
        #network .node circle { fill:#223142; stroke:var(--ok); stroke-width:2; }
        #network .node.down circle { stroke:var(--stuck); }
        #network .node text { fill:var(--text); font-size:12px; text-anchor:middle; }
        #network .link { stroke:#3a4b5e; stroke-width:2; }
        #network .link.busy { stroke:var(--rep); }
        #network .link.down { stroke:var(--stuck); stroke-dasharray:6 4; }
        #network .dot { fill:var(--rep); transition: transform .25s linear; }
        #network .dot.failed { fill:var(--stuck); }
        .rses { display:grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap:8px; }
        .rse { border:1px solid var(--line); border-radius:6px; padding:8px; }
        .rse .name { font-weight:600; display:flex; justify-content:space-between; align-items:center; gap:6px; }
        .rse .name .rse-name { min-width:0; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
        .rse .name .badge { flex-shrink:0; }
        .rse .meta .incoming { color:var(--rep); } .rse .meta .stuck { color:var(--stuck); }
        td.state .retry { font-size:11px; color:#ff9b94; white-space:nowrap; }
        .rse .meta { color:var(--dim); font-size:12px; margin:4px 0 6px; }
        .badge { font-size:11px; font-weight:600; padding:1px 6px; border-radius:10px; border:1px solid currentColor; white-space:nowrap; }
        .badge.OK, .badge.up, .badge.FINISHED, .badge.DONE { color:var(--ok); }
        .badge.REPLICATING, .badge.ACTIVE, .badge.SUBMITTED, .badge.QUEUED { color:var(--rep); }
        .badge.STUCK, .badge.down, .badge.FAILED { color:var(--stuck); }
        .badge.cut { color:var(--warn); }
        table { width:100%; border-collapse:collapse; font-size:13px; }
        th { text-align:left; color:var(--dim); font-weight:500; border-bottom:1px solid var(--line); padding:3px 6px; }
        td { border-bottom:1px solid #1f2b38; padding:4px 6px; vertical-align:middle; }
        td.did { font-family:ui-monospace, monospace; font-size:12px; word-break:break-all; }
        #rules tbody tr { cursor:pointer; } #rules tbody tr:hover, #rules tbody tr.selected { background:#1e2b3a; }
        .bar { display:flex; height:10px; min-width:90px; border-radius:5px; overflow:hidden; background:#243445; }
        .bar span { display:block; height:100%; transition: width .25s; }
        .bar .ok { background:var(--ok); } .bar .stuck { background:var(--stuck); }
        .bar .rep { background:transparent; }  /* a lock still replicating holds no file yet: the bar fills as copies land */
        .progress { height:6px; background:#243445; border-radius:3px; overflow:hidden; }
        .progress span { display:block; height:100%; background:var(--rep); transition: width .25s linear; }
        .error { color:#ff9b94; font-size:12px; }
        .empty { color:var(--dim); font-style:italic; }
        #events { font-family:ui-monospace, monospace; font-size:12px; max-height:260px; overflow:auto; margin:0; padding:0; list-style:none; }
        #events li { padding:1px 0; border-bottom:1px solid #1c2733; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; }
        #events .t { color:var(--dim); } #events .k { font-weight:600; }
        #events .transfer-finished .k, #events .rule-ok .k { color:var(--ok); }
        #events .transfer-failed .k, #events .transfer-stuck .k, #events .rule-stuck .k { color:var(--stuck); }
        #events .transfer-retry .k, #events .dashboard .k, #events .scenario .k { color:var(--warn); }
        #events .transfer-started .k, #events .transfer-submitted .k, #events .rule-replicating .k, #events .rule-added .k { color:var(--rep); }
        #panel { position:fixed; top:0; right:0; width:min(640px, 100vw); height:100vh; overflow:auto; background:var(--panel);
                 border-left:1px solid var(--line); padding:14px 16px; box-shadow:-8px 0 24px #0008; transform:translateX(105%); transition:transform .2s; }
        #panel.open { transform:none; }
        #panel h3 { margin:14px 0 6px; font-size:13px; color:var(--dim); text-transform:uppercase; letter-spacing:.06em; }
        #panel .close { float:right; }
        #toast { position:fixed; bottom:16px; left:50%; transform:translateX(-50%); background:#223142; border:1px solid var(--line);
                 padding:8px 14px; border-radius:8px; opacity:0; transition:opacity .3s; pointer-events:none; }
        #toast.show { opacity:1; }
        .hidden { display:none !important; }
        @media (max-width: 900px) { main { grid-template-columns: 1fr; } #network-section { grid-row:auto; } }
        </style>
        </head>

        """#

    static let body = #"""
        <body>
        <header>
          <h1>Lakebed</h1>
          <div class="group"><span id="clock">–</span><span id="clock-mode"></span></div>
          <div class="group">
            <button id="pause" title="Freeze or resume the lake clock">Pause</button>
            <label for="scale">speed</label>
            <select id="scale" title="Lake seconds per real second">
              <option value="0">manual</option><option value="0.5">0.5×</option><option value="1">1×</option><option value="10">10×</option>
              <option value="60">60×</option><option value="600">600×</option><option value="3600">3600×</option>
            </select>
            <button id="advance1" title="Move the clock forward one minute">+1 min</button>
            <button id="advance10" title="Move the clock forward ten minutes">+10 min</button>
          </div>
          <div class="group hidden" id="faults">
            <span id="scenario-name"></span>
            <select id="fault-menu" title="Faults the scenario offers"></select>
            <button id="inject" class="danger">Inject</button>
          </div>
          <span id="conn" class="closed">connecting…</span>
        </header>
        <main>
          <section id="network-section"><h2>Transfers on the links <span class="count" id="transfer-count"></span></h2>
            <svg id="network" viewBox="0 0 600 340" role="img" aria-label="RSEs and the transfers between them"></svg>
            <table id="transfers"><thead><tr><th>file</th><th>link</th><th>progress</th></tr></thead><tbody></tbody></table>
          </section>
          <section><h2>RSEs <span class="count" id="rse-count"></span></h2><div class="rses" id="rses"></div></section>
          <section><h2>Rules <span class="count" id="rule-count"></span></h2>
            <table id="rules"><thead><tr><th>state</th><th>DID</th><th>RSEs</th><th>locks</th></tr></thead><tbody></tbody></table>
          </section>
          <section style="grid-column: 1 / -1"><h2>Event log <span class="count" id="event-count"></span></h2><ul id="events"></ul></section>
        </main>
        <aside id="panel" aria-label="Rule details">
          <button class="close" id="panel-close">Close</button>
          <h2 id="panel-title">Rule</h2>
          <div id="panel-body"></div>
        </aside>
        <div id="toast"></div>

        """#
}
