// GraphiQL for this server: every asset comes from /static/graphiql (no CDN), so the page
// works offline and under the server's Content-Security-Policy (no inline script).
(function () {
  "use strict";
  var url = new URL("/graphql", window.location.href);
  var socket = new URL(url.href);
  socket.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: socket.href });
  var defaultQuery = [
    "# Audience segments. Put your token in the Headers pane:",
    '#   {"Authorization": "Bearer <token from: audience token --sub viewer-0001>"}',
    "# and run (Ctrl-Enter):",
    "{",
    "  me { userId roles }",
    "}",
    "",
  ].join("\n");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: true,
    })
  );
})();
