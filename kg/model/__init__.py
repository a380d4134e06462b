"""System models: YAML or Turtle in, one RDF graph out, with the source line of each element."""
