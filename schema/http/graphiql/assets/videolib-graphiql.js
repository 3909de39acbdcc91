// Starts GraphiQL: strawberry's inline page script, moved here so the page's CSP can forbid
// inline script. Differences from strawberry's, and why:
// - no js-cookie / x-csrftoken: that is Django's CSRF cookie, and this server sets no cookie;
// - no subscriptionUrl: this server has no subscriptions (and so no WebSocket to allow);
// - tabs open on the examples of schema/http/graphiql/examples.py (the div's data-examples);
// - the token of a Register or Login answer is sent with later requests (see fetchWithToken).
"use strict";

(function () {
  const container = document.getElementById("graphiql");
  const { tabs: exampleTabs, heroVideoId: HERO_VIDEO_ID } = JSON.parse(container.dataset.examples);

  // Parse URL parameters for sharing queries
  const parameters = {};

  for (const entry of window.location.search.slice(1).split("&")) {
    const eq = entry.indexOf("=");
    if (eq >= 0) {
      parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(entry.slice(eq + 1));
    }
  }

  function updateURL(data) {
    Object.assign(parameters, data);

    const newSearch =
      "?" +
      Object.keys(parameters)
        .filter((key) => Boolean(parameters[key]))
        .map((key) => encodeURIComponent(key) + "=" + encodeURIComponent(parameters[key]))
        .join("&");
    history.replaceState(null, null, newSearch);
  }

  const fetchURL = window.location.href.split("?")[0];

  // Per browser tab, so closing it signs the page out; cleared by Logout or a refused token.
  const TOKEN_KEY = "videolib:graphiql:token";

  function storedToken() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY);
    } catch {
      return null; // storage is off: the page works, without remembering the token
    }
  }

  function storeToken(token) {
    try {
      if (token) {
        window.sessionStorage.setItem(TOKEN_KEY, token);
      } else {
        window.sessionStorage.removeItem(TOKEN_KEY);
      }
    } catch {
      // as above
    }
  }

  function remember(body, sentToken) {
    const data = (body && body.data) || {};
    const signedIn = (data.register && data.register.token) || (data.login && data.login.token);
    if (signedIn) {
      storeToken(signedIn);
      return;
    }
    if (!sentToken) {
      return;
    }
    // A revoked or expired token fails every request as UNAUTHENTICATED: stop sending it.
    const refused = (body.errors || []).some((e) => e.extensions && e.extensions.code === "UNAUTHENTICATED");
    if (data.logout === true || (refused && !body.data)) {
      storeToken(null);
    }
  }

  // The signed-in examples (saveProgress, react) run as soon as Register or Login has: their token
  // is added unless the Headers editor sets an Authorization of its own.
  async function fetchWithToken(url, init) {
    const headers = new Headers(init && init.headers);
    const token = storedToken();
    const sentToken = Boolean(token) && !headers.has("Authorization");
    if (sentToken) {
      headers.set("Authorization", "Bearer " + token);
    }
    const response = await window.fetch(url, { ...init, headers });
    if ((response.headers.get("Content-Type") || "").includes("json")) {
      try {
        remember(await response.clone().json(), sentToken);
      } catch {
        // not JSON after all: GraphiQL shows the answer as it is
      }
    }
    return response;
  }

  const fetcher = GraphiQL.createFetcher({ url: fetchURL, fetch: fetchWithToken });

  // The player and write examples name a video by ID, which only the database knows.
  async function heroVideoId() {
    try {
      const response = await fetchWithToken(fetchURL, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ query: "query ExampleVideoId { heroVideo { id } }" }),
      });
      const body = await response.json();
      return (body.data && body.data.heroVideo && body.data.heroVideo.id) || null;
    } catch {
      return null; // the tabs open anyway; the placeholder says what to put there
    }
  }

  function withVideoId(tabs, id) {
    if (!id) {
      return tabs;
    }
    return tabs.map((tab) => ({
      ...tab,
      variables: tab.variables && tab.variables.split(HERO_VIDEO_ID).join(id),
    }));
  }

  function GraphiQLWithExplorer(props) {
    function onEditQuery(newQuery) {
      updateURL({ q: newQuery });
    }

    function onEditVariables(newVariables) {
      updateURL({ variables: newVariables });
    }

    // The URL shares the tab on show: without this it kept the last query edited in another tab.
    function onTabChange(tabState) {
      const tab = tabState.tabs[tabState.activeTabIndex];
      updateURL({ q: tab.query, variables: tab.variables });
    }

    const explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();

    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [explorerPlugin],
      // Only read while GraphiQL has no tabs stored yet (a first visit).
      defaultTabs: props.defaultTabs,
      query: parameters.q,
      variables: parameters.variables,
      onEditQuery: onEditQuery,
      onEditVariables: onEditVariables,
      onTabChange: onTabChange,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  heroVideoId().then((id) => {
    let defaultTabs = withVideoId(exampleTabs, id);
    if (parameters.q) {
      // A shared link opens on its own query, before the examples.
      defaultTabs = [{ query: parameters.q, variables: parameters.variables || null }, ...defaultTabs];
    }
    const root = ReactDOM.createRoot(container);
    root.render(React.createElement(GraphiQLWithExplorer, { defaultTabs: defaultTabs }));
  });
})();
