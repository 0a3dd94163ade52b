import HTTPTypes
import Hummingbird

/// What a browser gets at `/`: a small page pointing at the dashboard, the APIs and the docs. Clients that do not
/// ask for HTML get what Rucio's server gives them for a path it has no route for: 404 (in Rucio's error format).
enum FrontPage {
    /// A browser's request for `/` (it says it accepts HTML; the rucio client, curl and requests do not).
    static func wanted(_ request: Request, segments: [String]) -> Bool {
        guard request.method == .get || request.method == .head, segments.isEmpty else { return false }
        return (request.headers[.accept] ?? "").lowercased().contains("text/html")
    }

    static var response: Response { Reply.text(html, contentType: "text/html; charset=utf-8") }

    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Lakebed</title>
        <link rel="icon" href="data:,">
        <style>
        body { margin:0 auto; max-width:760px; padding:24px 16px; font:15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
               background:#0f1720; color:#dce6ef; }
        a { color:#4aa3ff; } code, pre { font-family:ui-monospace, monospace; font-size:13px; }
        pre { background:#17212c; border:1px solid #2a3847; border-radius:6px; padding:10px 12px; overflow:auto; }
        dt { font-weight:600; margin-top:10px; } dd { margin:2px 0 0 0; color:#8da2b5; }
        .big { font-size:18px; }
        </style>
        </head>
        <body>
        <h1>Lakebed</h1>
        <p>An emulated Rucio data lake: the Rucio REST API, an FTS-like transfer service, an IAM-like token issuer,
        WebDAV storage and a live dashboard, on a clock that can run faster than real time.</p>
        <p class="big"><a id="dashboard" href="/dashboard/">Open the dashboard →</a></p>
        <dl>
          <dt>Rucio REST API: this address</dt>
          <dd>Point the <code>rucio</code> client here (<code>eval "$(lakebed env --shell)"</code> sets <code>RUCIO_CONFIG</code>);
              <a href="/ping">/ping</a> answers without a token. Login <code>ddmlab</code> / <code>secret</code>, account <code>root</code>.</dd>
          <dt>Routes</dt>
          <dd><a id="openapi" href="/lakebed/openapi.json">/lakebed/openapi.json</a>: every route Lakebed serves (OpenAPI).</dd>
          <dt>Control API</dt>
          <dd><a href="/lakebed/clock">/lakebed/clock</a>, <a href="/lakebed/links">/lakebed/links</a>,
              <a href="/lakebed/events?format=text">/lakebed/events</a>, <a href="/lakebed/scenario">/lakebed/scenario</a>;
              <code>POST /lakebed/reset</code>, <code>POST /lakebed/inject</code>.</dd>
          <dt>IAM (OIDC issuer)</dt>
          <dd><a href="/iam/.well-known/openid-configuration">/iam/.well-known/openid-configuration</a></dd>
          <dt>FTS3 REST</dt>
          <dd><a href="/fts/">/fts/</a></dd>
          <dt>Metrics</dt>
          <dd><a href="/metrics">/metrics</a> (Prometheus)</dd>
          <dt>Docs</dt>
          <dd><code>README.md</code> in the Lakebed repository (walkthrough, scenarios, tokens, control API) and its
              <code>docs/</code> folder; <code>lakebed --help</code> on the command line.</dd>
        </dl>
        </body>
        </html>

        """#
}
