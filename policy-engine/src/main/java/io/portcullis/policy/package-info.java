package io.portcullis.policy;
