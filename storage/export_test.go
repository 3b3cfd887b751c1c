package storage

// InstallDerived lets the tests run the derived tables' installation alone,
// as every schema migration does.
var InstallDerived = installDerived
