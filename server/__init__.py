"""What the web server serves and how it is deployed: templates, static assets, the WSGI entry
(installed as the package kg.server_data)."""
