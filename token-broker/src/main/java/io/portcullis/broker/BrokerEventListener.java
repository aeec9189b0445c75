package io.portcullis.broker;

/**
 * Receives {@link BrokerEvent}s; the gateway turns them into audit events. Called on the event loop right after the
 * fact: implementations must return quickly and never block (hand off to a non-blocking pipeline).
 */
@FunctionalInterface
public interface BrokerEventListener {

  BrokerEventListener NONE = e -> {};

  void onEvent(BrokerEvent e);
}
