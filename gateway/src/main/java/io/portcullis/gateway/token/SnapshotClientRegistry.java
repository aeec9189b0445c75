package io.portcullis.gateway.token;

import io.portcullis.broker.ClientRegistry;
import io.portcullis.broker.RegisteredClient;
import io.portcullis.gateway.config.SnapshotHolder;
import io.portcullis.policy.PolicySnapshot;
import io.portcullis.policy.model.App;
import io.portcullis.policy.model.AppStatus;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The broker's view of the apps: read from the current policy snapshot, so a config change (a new grant, a paused
 * app) takes effect on the next token request. Admin apps additionally get the admin scope.
 */
final class SnapshotClientRegistry implements ClientRegistry {

  private final SnapshotHolder snapshots;
  private final Set<String> adminApps;

  SnapshotClientRegistry(SnapshotHolder snapshots, Set<String> adminApps) {
    this.snapshots = snapshots;
    this.adminApps = Set.copyOf(adminApps);
  }

  @Override
  public @Nullable RegisteredClient find(String clientId) {
    PolicySnapshot snapshot = snapshots.current();
    App app = snapshot.app(clientId);
    if (app == null) {
      return null;
    }
    Set<String> scopes = snapshot.grantableScopes(clientId);
    if (adminApps.contains(clientId)) {
      scopes = new HashSet<>(scopes);
      scopes.add(AdminScopes.ADMIN);
    }
    return new RegisteredClient(app.id(), app.tier(), app.status() == AppStatus.ACTIVE,
        app.client().secretHash(), app.client().jwks(), scopes, app.attrs());
  }
}
