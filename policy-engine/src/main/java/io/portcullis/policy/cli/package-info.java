/** The {@code validate} / {@code test} command line used in CI (shaded jar, classifier {@code cli}). */
@NullMarked
package io.portcullis.policy.cli;

import org.jspecify.annotations.NullMarked;
