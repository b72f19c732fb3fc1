// Never built: this package only names the corpus crates.
