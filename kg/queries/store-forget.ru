# Remove a resource (a version, a system, a graph record) from the registry.
DELETE WHERE { GRAPH <https://w3id.org/threatkg/graph/registry> { $subject ?p ?o } }
