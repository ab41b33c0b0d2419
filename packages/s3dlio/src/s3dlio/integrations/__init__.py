"""Integrations of s3dlio into tools that storage engineers already run.

- `s3dlio.integrations.dlio`: storage classes for the DLIO benchmark (argonne-lcf/dlio_benchmark) and the
  installers that put them into a DLIO tree (a drop-in for its S3 storage, or a new `s3dlio` storage type).

Nothing here is imported by `import s3dlio`; each integration imports its tool only when its storage
classes are used.
"""
