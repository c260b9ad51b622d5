// Starts GraphiQL on /graphql/ (templates/graphql/graphiql.html): queries and mutations over
// HTTP with the session cookie and the page's CSRF token.
(function () {
  "use strict";
  const root = document.getElementById("graphiql");
  const fetcher = GraphiQL.createFetcher({
    url: root.dataset.url,
    headers: { "X-CSRFToken": root.dataset.csrfToken },
  });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolbarOpen: true }),
  );
})();
