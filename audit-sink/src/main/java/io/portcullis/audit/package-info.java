package io.portcullis.audit;
