package io.portcullis.policy.model;

/** Where a dataset's rows come from. */
public sealed interface Source permits PostgresSource, HttpSource {}
