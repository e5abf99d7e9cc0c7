//! Integration tests of aidant-graph against networkx reference values and external readers.

mod external_readers;
mod helpers;
mod networkx_fixtures;
mod networkx_live;
