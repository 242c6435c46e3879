package dev.gitops.k8s;

import dev.gitops.testkit.TempGitRepo;

/** A small real-world application as a Git repository would hold it. */
final class Manifests {

  private Manifests() {}

  static final String NAMESPACE = """
      apiVersion: v1
      kind: Namespace
      metadata:
        name: shop
        labels: {team: checkout}
      """;

  static final String CONFIG = """
      apiVersion: v1
      kind: ConfigMap
      metadata:
        name: web-config
        namespace: shop
      data:
        LOG_LEVEL: info
        FEATURES: "cart,wishlist"
      ---
      apiVersion: v1
      kind: Secret
      metadata:
        name: db-credentials
        namespace: shop
      type: Opaque
      stringData:
        password: s3cr3t-hunter2
        username: shop
      """;

  static String deployment(String image, int replicas) {
    return """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: shop
          labels: {app: web}
        spec:
          replicas: %d
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              serviceAccountName: web
              containers:
              - name: web
                image: %s
                ports:
                - containerPort: 8080
                env:
                - name: DB_PASSWORD
                  valueFrom:
                    secretKeyRef: {name: db-credentials, key: password}
                resources:
                  requests: {cpu: 0.25, memory: 256Mi}
                  limits: {cpu: "1", memory: 0.5Gi}
        """.formatted(replicas, image);
  }

  static final String SERVICE_AND_INGRESS = """
      apiVersion: v1
      kind: Service
      metadata:
        name: web
        namespace: shop
      spec:
        selector: {app: web}
        ports:
        - port: 80
          targetPort: 8080
      ---
      apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata:
        name: web
        namespace: shop
      spec:
        rules:
        - host: shop.example.com
          http:
            paths:
            - path: /
              pathType: Prefix
              backend:
                service:
                  name: web
                  port: {number: 80}
      """;

  static final String RBAC = """
      apiVersion: v1
      kind: ServiceAccount
      metadata: {name: web, namespace: shop}
      ---
      apiVersion: rbac.authorization.k8s.io/v1
      kind: Role
      metadata: {name: config-reader, namespace: shop}
      rules:
      - apiGroups: [""]
        resources: [configmaps]
        verbs: [get, list, watch]
      ---
      apiVersion: rbac.authorization.k8s.io/v1
      kind: RoleBinding
      metadata: {name: web-reads-config, namespace: shop}
      roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: config-reader}
      subjects:
      - {kind: ServiceAccount, name: web, namespace: shop}
      ---
      apiVersion: rbac.authorization.k8s.io/v1
      kind: ClusterRole
      metadata: {name: shop-metrics-reader}
      rules:
      - nonResourceURLs: [/metrics]
        verbs: [get]
      """;

  static final String CRD = """
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: widgets.example.com
      spec:
        group: example.com
        scope: Namespaced
        names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
        versions:
        - name: v1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              x-kubernetes-preserve-unknown-fields: true
      """;

  static String widget(String color) {
    return """
        apiVersion: example.com/v1
        kind: Widget
        metadata:
          name: banner
          namespace: shop
        spec:
          color: %s
          size: 3
        """.formatted(color);
  }

  /** Writes the whole application into {@code repo} and commits it. */
  static String writeAll(TempGitRepo repo) {
    repo.write("base/namespace.yaml", NAMESPACE);
    repo.write("base/config.yaml", CONFIG);
    repo.write("base/rbac.yaml", RBAC);
    repo.write("apps/web/deployment.yaml", deployment("registry.example.com/shop/web:1.0.0", 2));
    repo.write("apps/web/network.yaml", SERVICE_AND_INGRESS);
    repo.write("crds/widgets.yaml", CRD);
    repo.write("apps/web/widget.yaml", widget("blue"));
    repo.write("README.md", "the shop's manifests");
    return repo.commit("the shop");
  }
}
