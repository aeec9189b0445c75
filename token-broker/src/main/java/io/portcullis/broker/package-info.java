package io.portcullis.broker;
