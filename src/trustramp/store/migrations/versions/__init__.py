"""Schema revisions, oldest first; each must leave the models and the database equal."""
