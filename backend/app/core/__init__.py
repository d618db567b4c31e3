"""Cross-cutting infrastructure every domain uses: settings, database, jobs, errors, HTTP."""
