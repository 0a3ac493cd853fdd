"""Demo scaffolding: a synthetic tagged and captioned corpus and small benchmark files built from
its held-out clips, so the whole pipeline runs without downloading a dataset."""
