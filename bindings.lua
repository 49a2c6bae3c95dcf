-- The demo park's columns: which plugin serves which path, with its config.
-- A column is a path prefix: "/tzgg" serves /tzgg and everything under it.
-- The plugin's config is checked against the plugin's schema when the site
-- starts or reloads; a bad one is refused with the field and the reason.
return {
  { column = "/hello", plugin = "hello", config = { greeting = "Hello, World!" } },
}
