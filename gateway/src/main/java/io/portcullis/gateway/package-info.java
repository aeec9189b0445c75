package io.portcullis.gateway;
