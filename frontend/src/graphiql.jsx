import React from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import "graphiql/graphiql.css";

const fetcher = async (params) => {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(params),
  });
  return response.json();
};

const defaultQuery = `# pressure-graph: try a search, then open a node's neighbours.
{
  search(text: "lipetsk") { id kind label }
  stats { nodeCount relationshipCount version }
}
`;

createRoot(document.getElementById("graphiql")).render(
  <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} />,
);
