// Start-up of the 254Carbon GraphiQL page (a file, not an inline script: the page's CSP is script-src 'self').
// Queries need credentials: set {"Authorization": "Bearer <API key>"} in GraphiQL's Headers tab.
(function () {
  var endpoint = document.getElementById("graphiql").getAttribute("data-endpoint");
  var fetcher = GraphiQL.createFetcher({ url: endpoint });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      defaultQuery: '{ locations(search: "HUB") { iso location locationType } }\n',
    })
  );
})();
