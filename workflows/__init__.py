"""The SpiffWorkflow adapter: parsing, sandboxed execution, persistence, replay. No Flask here."""
