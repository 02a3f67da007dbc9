"""The native development stack: a real Apache Kafka (KRaft) from Maven Central and the dev registry.

No Docker needed: the broker's classpath is resolved with Maven from `dev/kafka/pom.xml`,
cached outside the work tree, and started with the local Java; `tradewire dev up` runs it.
"""
