/**
 * The policy compiler and per-request decisions: {@code PolicyCompiler.compile(config) → PolicySnapshot} (expensive,
 * validated, immutable) and {@code snapshot.decide(request)} (cheap, lock-free, never throws).
 */
@NullMarked
package io.portcullis.policy;

import org.jspecify.annotations.NullMarked;
