"""Reading the content folder: walk, YAML with line numbers, models, judging, the parse cache."""
