# A bidirectional flow delivers data to its source as well as to its target.
INSERT { ?flow tm:deliversTo ?source }
WHERE { ?flow tm:bidirectional true ; tm:source ?source }
