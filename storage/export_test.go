package storage

// InstallDerived lets the tests run the derived tables' installation alone,
// as every schema migration does.
var InstallDerived = installDerived

// SkipUnchanged lets the tests re-seed every task, unchanged or not.
var SkipUnchanged = &skipUnchanged

// ScopedSyncMax lets the tests choose how many written tasks a re-seeding
// syncs the shares of by ID.
var ScopedSyncMax = &scopedSyncMax

// SeedPass lets the tests choose how many tasks a re-seeding writes per
// pass.
var SeedPass = &seedPass
