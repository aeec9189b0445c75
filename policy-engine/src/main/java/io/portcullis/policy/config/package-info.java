/** Reading and writing the YAML policy configuration, with positioned issues. */
@NullMarked
package io.portcullis.policy.config;

import org.jspecify.annotations.NullMarked;
