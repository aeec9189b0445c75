/** The policy configuration model: immutable records parsed from YAML by {@code PolicyConfigLoader}. */
@NullMarked
package io.portcullis.policy.model;

import org.jspecify.annotations.NullMarked;
