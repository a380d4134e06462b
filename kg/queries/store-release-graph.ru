# A graph read with a catalog release (inserted before the release is switched in).
INSERT DATA { GRAPH <https://w3id.org/threatkg/graph/registry> { $release tm:dataGraph $graph } }
